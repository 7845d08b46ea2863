"""python_exec: what the sandbox refuses (each as a clear E4 result through vista.call_tool), what it allows."""

import os
from pathlib import Path

import pytest
import vista
from vista import ErrorClass
from vista.checks import check_tool
from vista_tools_math.sandbox import SandboxLimits, network_isolation, run_python
from vista_tools_math.tools import PythonExec

from vista_tools_math import sandbox

# generous wall time: the CI machines are shared, and CPU seconds are what the CPU limit counts
TOOLS = {"python_exec": PythonExec(SandboxLimits(cpu_s=2, wall_s=60, memory_mb=512))}


def run(code: str, tools=TOOLS) -> vista.ToolResult:
    return vista.call_tool("python_exec", {"code": code}, tools=tools)


def refused(code: str, fragment: str, tools=TOOLS) -> None:
    result = run(code, tools)
    assert not result.ok, result.data
    assert result.error.error_class is ErrorClass.E4
    assert result.error.argument == "code"
    assert fragment in result.error.message, result.error.message


@pytest.mark.parametrize("code, fragment", [
    ("print(open('/etc/passwd').read())", "cannot read '/etc/passwd'"),
    ("print(open('../../../../../../etc/passwd').read())", "cannot read '../../../../../../etc/passwd'"),
    ("import pathlib\nprint(pathlib.Path('/etc/passwd').read_text())", "cannot read '/etc/passwd'"),
    ("import os\nfd = os.open('/etc/passwd', os.O_RDONLY)", "cannot read '/etc/passwd'"),
    ("import os\nprint(os.listdir('/'))", "os.listdir: cannot read '/'"),
    ("open('/tmp/vista-sandbox-escape.txt', 'w').write('x')", "cannot write '/tmp/vista-sandbox-escape.txt'"),
    ("import os\nos.symlink('/etc/passwd', 'p')", "creating links is not allowed"),
    ("import os\nos.link('/etc/passwd', 'p')", "creating links is not allowed"),
    ("import os\nos.chdir('/')", "changing the working directory is not allowed"),
])
def test_files_outside_the_working_directory_are_refused(code, fragment):
    refused(code, fragment)


@pytest.mark.parametrize("code, fragment", [
    ("import socket\nsocket.create_connection(('127.0.0.1', 80))", "importing 'socket' is not allowed"),
    ("import _socket\n_socket.socket()", "importing '_socket' is not allowed"),
    ("import urllib.request\nurllib.request.urlopen('http://example.com')", "importing 'socket' is not allowed"),
])
def test_network_is_refused(code, fragment):
    refused(code, fragment)


@pytest.mark.parametrize("code, fragment", [
    ("import ctypes\nctypes.CDLL('libc.so.6').system(b'id')", "ctypes.CDLL is not available in the sandbox"),
    ("import ctypes\nctypes.pythonapi.PyRun_SimpleString(b'1')", "ctypes.pythonapi is not available"),
    ("import ctypes\nctypes.c_char_p(b'x')", "creating ctypes values (c_char_p) is not allowed"),
    ("import _ctypes", "importing '_ctypes' is not allowed"),
    ("import ctypes.util", "importing 'ctypes.util' is not allowed"),
    ("import os\nos.system('cat /etc/passwd')", "running shell commands is not allowed"),
    ("import subprocess\nsubprocess.run(['cat', '/etc/passwd'])", "starting programs is not allowed"),
    ("import _posixsubprocess\n_posixsubprocess.fork_exec()", "starting programs is not allowed"),
    ("import os\nos.execv('/bin/sh', ['sh'])", "starting programs is not allowed"),
    ("import os\nos.posix_spawn('/bin/sh', ['sh'], {})", "starting programs is not allowed"),
    ("import os\nwhile True:\n    os.fork()", "starting processes (fork) is not allowed"),
    ("import os\nos.kill(1, 9)", "'os.kill' is not allowed"),
    ("import multiprocessing\nmultiprocessing.Process(target=print).start()", "not allowed"),
    ("import marshal\nexec(marshal.loads(b'\\xe3'))", "marshal.loads is not allowed"),
    ("import gc\nprint(len(gc.get_objects()))", "'gc.get_objects' is not allowed"),
    ("import resource\nresource.setrlimit(resource.RLIMIT_CPU, (100, 100))", "'resource.setrlimit' is not allowed"),
])
def test_process_memory_and_interpreter_escapes_are_refused(code, fragment):
    refused(code, fragment)


def test_the_audit_hook_cannot_be_disarmed_through_its_own_frames():
    code = ("try:\n    open('/etc/passwd')\nexcept PermissionError as exc:\n    tb = exc.__traceback__\n"
            "    while tb.tb_next:\n        tb = tb.tb_next\n    check = tb.tb_frame.f_back.f_locals['_check']\n"
            "    check.__defaults__ = None\n")
    refused(code, "changing '__defaults__' of the sandbox's own functions is not allowed")
    rewrite_path_check = ("import sys\nsys.modules['__main__']._normalise.__code__ = (lambda p, r: r).__code__\n"
                          "print(open('/etc/passwd').read())")
    refused(rewrite_path_check, "changing '__code__' of the sandbox's own functions is not allowed")


MKNOD = "import os, stat\nos.mknod('dev', 0o600 | stat.S_IFCHR, os.makedev(1, 3))\nprint(open('dev', 'rb').read())"


@pytest.mark.skipif(not network_isolation(), reason="this kernel does not permit user namespaces (unshare -r -n)")
def test_device_nodes_cannot_be_created_in_the_namespaces():
    result = run(MKNOD)
    assert result.ok and result.data["exit_code"] == 1
    assert "PermissionError: [Errno 1] Operation not permitted" in result.data["stderr"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can create device nodes without namespaces")
def test_device_files_are_refused_by_the_hook_without_namespaces(monkeypatch):
    monkeypatch.setattr(sandbox, "network_isolation", lambda: ())
    refused(MKNOD, "'dev' is a device file; the sandbox only opens regular files")


def test_memory_hog_is_stopped():
    refused("x = bytearray(4 * 1024**3)", "more than 512 MiB of memory")
    refused("chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024**2))", "more than 512 MiB of memory")


def test_cpu_hog_is_stopped():
    tools = {"python_exec": PythonExec(SandboxLimits(cpu_s=1, wall_s=120))}
    refused("while True:\n    pass", "more than 1 s of CPU time", tools)


def test_sleeping_program_is_stopped_at_the_wall_clock_limit():
    tools = {"python_exec": PythonExec(SandboxLimits(cpu_s=5, wall_s=2))}
    refused("import time\ntime.sleep(60)", "ran longer than 2 s", tools)


def test_a_stopped_program_shows_what_it_printed_before():
    tools = {"python_exec": PythonExec(SandboxLimits(cpu_s=5, wall_s=2))}
    refused("print('step 1 done')\nimport time\ntime.sleep(60)",
            "ran longer than 2 s and was stopped (waiting or looping); make it finish sooner\n"
            "[printed before it was stopped]\nstep 1 done", tools)


def test_output_is_bounded():
    tools = {"python_exec": PythonExec(SandboxLimits(cpu_s=5, wall_s=60, output_bytes=10_000))}
    result = run("while True:\n    print('x' * 100)", tools)
    assert result.ok
    assert len(result.data["stdout"]) <= 10_000
    assert "output limit of 10000 bytes reached" in result.data["stderr"]


def test_ordinary_computation_and_errors():
    result = run("import math, fractions\nprint(math.comb(10, 3), fractions.Fraction(3, 4) + 1)")
    assert result.ok and result.data == {"stdout": "120 7/4\n", "stderr": "", "exit_code": 0}
    result = run("print('before')\n1 / 0")
    assert result.ok and result.data["exit_code"] == 1 and result.data["stdout"] == "before\n"
    assert 'File "main.py", line 2' in result.data["stderr"] and "ZeroDivisionError" in result.data["stderr"]
    assert "sandbox_boot" not in result.data["stderr"]  # the policy sees its own traceback, not ours


def test_files_in_the_working_directory_and_libraries_work():
    code = ("from pathlib import Path\nimport numpy as np, sympy as sp\nPath('a.txt').write_text('21')\n"
            "x = sp.Symbol('x')\nprint(int(Path('a.txt').read_text()) * 2, sp.solve(x**2 - 4, x), "
            "np.linalg.solve([[2, 1], [1, 3]], [3, 5]).round(2).tolist())")
    result = run(code)
    assert result.ok, result.error
    assert result.data["stdout"] == "42 [-2, 2] [0.8, 1.4]\n"


def test_working_directory_is_removed_afterwards():
    run_ = run_python("import os\nprint(os.getcwd())", SandboxLimits(wall_s=60))
    workdir = run_.stdout.strip()
    assert Path(workdir).name.startswith("vista-sandbox-")
    assert not os.path.exists(workdir)


def test_check_tool():
    check_tool(TOOLS["python_exec"])
