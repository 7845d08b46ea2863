"""Repository-wide test set-up.

pytest's importlib import mode names a test file after its path (`vista_tasks/tests/test_x.py` becomes
`vista_tasks.tests.test_x`) and, to hold it, creates an empty namespace package `vista_tasks` over the distribution
folder, hiding the installed package of the same name. Importing the installed packages first makes pytest reuse
them as the parents instead. `vista.testing` serves its fixtures (the fake chat server, `chat_server`) to every test.

A shell without job control starts a background command (`make test &`, `nohup ... &`) with SIGINT ignored, and a
child inherits that: the tests that press Ctrl-C on a CLI they start would then test nothing. The suite puts the
default back, so those children start as a terminal would start them.
"""

import importlib
import signal

if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

pytest_plugins = ["vista.testing"]

for _package in ("vista", "vista_tasks", "vista_tools_perception", "vista_tools_chart", "vista_tools_diagram",
                 "vista_tools_math", "vista_trainer", "vista_example_plugin"):
    try:
        importlib.import_module(_package)
    except ImportError:  # a distribution that is not installed simply has no tests to collect
        pass
