import sys
from pathlib import Path

# the problem generator beside the tests (tests/geometry_problems.py) is imported by name
sys.path.insert(0, str(Path(__file__).parent))
