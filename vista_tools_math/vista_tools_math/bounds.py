"""Size bounds of the expression reader, in a module of their own so that the tool definitions (loaded at plugin
start-up) can put them in the argument schema without importing sympy."""

MAX_LENGTH = 2000
MAX_DEPTH = 60
MAX_LITERAL_DIGITS = 400
MAX_RESULT_DIGITS = 20_000  # a power whose exact value would need more decimal digits is refused
MAX_FACTORIAL = 2000
MAX_NAME_LENGTH = 24
