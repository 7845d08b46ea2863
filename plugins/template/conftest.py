# Lets the tests import the package before it is installed (`pytest` from a fresh copy); installed, it is the same code.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
