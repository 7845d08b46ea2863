"""Start-up of the sandboxed child process (run as a script by `sandbox.py`; never imported by the framework).

Order matters: resource limits first, then the code is read, then the audit hook is installed, and only then does
the policy's code run, so that nothing it does happens before the hook sees it. The hook works by allowlist: an
audit event it does not know is refused, and it names the event, so a library that needs one more event gives a clear
message instead of a silent hole. Names it needs are bound as default arguments (immutable, set before user code
runs) because user code can rebind module attributes such as `os.path.realpath` or `builtins.isinstance`.
This is defence in depth, not a jail: see the package README for the threat model.
"""

import builtins
import marshal
import os
import resource
import signal
import sys
import types

# marshal, not json: it is built in, and every import here is start-up time paid by each call
CONFIG = marshal.loads(bytes.fromhex(sys.argv[1]))
VIOLATION_FD = CONFIG["violation_fd"]


class SandboxViolation(PermissionError):
    sandbox_violation = True


class SandboxImportError(ImportError):
    sandbox_violation = True


def _limit(kind: int, value: int) -> None:
    try:
        resource.setrlimit(kind, (value, value))
    except (ValueError, OSError):  # a hard limit already lower than ours: keep the lower one
        pass


def apply_limits() -> None:
    cpu = CONFIG["cpu_s"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU at the soft limit, SIGKILL one second later
    _limit(resource.RLIMIT_AS, CONFIG["memory_bytes"])
    _limit(resource.RLIMIT_FSIZE, CONFIG["file_bytes"])
    _limit(resource.RLIMIT_NOFILE, CONFIG["max_open_files"])
    _limit(resource.RLIMIT_CORE, 0)
    # RLIMIT_NPROC counts every process of the user, so 0 means "no new process or thread" (root is exempt from it;
    # the audit hook refuses fork/exec/spawn for everyone)
    _limit(resource.RLIMIT_NPROC, 0)
    # writing past RLIMIT_FSIZE raises OSError instead of killing the process without a word
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


# Events that are allowed as they come. Everything not here and not checked below is refused.
ALLOWED_EVENTS = frozenset({
    "exec", "compile", "builtins.id", "function.__new__", "object.__getattr__", "sys._getframe",
    "sys._getframemodulename", "sys.settrace", "sys.setprofile", "sys.excepthook", "sys.unraisablehook",
    "time.sleep", "array.__new__", "os.putenv", "os.unsetenv", "pickle.find_class", "random.seed",
})
READ_PATH_EVENTS = frozenset({"os.listdir", "os.scandir", "glob.glob", "glob.glob/2"})
WRITE_PATH_EVENTS = frozenset({"os.mkdir", "os.remove", "os.rmdir", "os.rename", "os.replace", "os.truncate",
                               "os.chmod", "os.utime", "shutil.copyfile", "shutil.copymode", "shutil.copystat",
                               "shutil.copytree", "shutil.rmtree", "shutil.move", "tempfile.mkstemp",
                               "tempfile.mkdtemp"})
TWO_PATH_EVENTS = frozenset({"os.rename", "os.replace", "shutil.copyfile", "shutil.copymode", "shutil.copystat",
                             "shutil.copytree", "shutil.move"})
BLOCKED_MODULES = frozenset({"_ctypes", "cffi", "_cffi_backend", "mmap", "_socket",
                             "socket", "ssl", "_ssl", "pty", "fcntl", "termios", "_multiprocessing"})
EXPLAINED = {
    "socket": "network access is not allowed in the sandbox",
    "os.system": "running shell commands is not allowed in the sandbox",
    "os.exec": "starting programs is not allowed in the sandbox",
    "os.posix_spawn": "starting programs is not allowed in the sandbox",
    "os.spawn": "starting programs is not allowed in the sandbox",
    "os.fork": "starting processes (fork) is not allowed in the sandbox",
    "os.forkpty": "starting processes (fork) is not allowed in the sandbox",
    "subprocess.Popen": "starting programs is not allowed in the sandbox",
    "os.chdir": "changing the working directory is not allowed in the sandbox",
    "os.symlink": "creating links is not allowed in the sandbox",
    "os.link": "creating links is not allowed in the sandbox",
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _normalise(path: str, root: str) -> str:
    """Absolute, with '.' and '..' resolved lexically, using only str methods (which user code cannot rebind)."""
    if not path.startswith("/"):
        path = root + "/" + path
    parts: list = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def make_hook(root: str, read_roots: tuple, path_types: tuple):
    def inside(path: str, roots: tuple) -> bool:
        for r in roots:
            if path == r or path.startswith(r + "/"):
                return True
        return False

    def check_path(event, raw, write, _type=type, _str=str, _bytes=bytes, _int=int, _decode=bytes.decode,
                   _fspath=os.fspath, _realpath=os.path.realpath, _norm=_normalise, _root=(root,),
                   _read=read_roots, _types=path_types, _inside=inside, _Violation=SandboxViolation,
                   _originals=(path_types[0].__fspath__, path_types[0].__str__), _stat=os.stat, _OSError=OSError):
        kind = _type(raw)
        if kind is _int or raw is None:
            return
        if kind is _bytes:
            raw = _decode(raw, "utf-8", "surrogateescape")
        elif kind in _types and kind.__fspath__ is _originals[0] and kind.__str__ is _originals[1]:
            raw = _fspath(raw)  # the original methods return the string open() already took from this object
        elif kind is not _str:
            raise _Violation(f"{event}: pass file paths as str (got {kind.__name__}) in the sandbox")
        lexical = _norm(raw, _root[0])
        resolved = _realpath(lexical)
        allowed = _root if write else _root + _read
        if not (_inside(lexical, allowed) and _inside(resolved, allowed)):
            what = "write" if write else "read"
            raise _Violation(f"{event}: cannot {what} '{raw}': code in the sandbox may only use files in its "
                             f"working directory (relative paths such as 'data.txt')")
        try:
            kind_bits = _stat(resolved).st_mode & 0o170000
        except _OSError:
            return
        if kind_bits == 0o020000 or kind_bits == 0o060000:  # os.mknod has no audit event: refuse device files
            raise _Violation(f"{event}: '{raw}' is a device file; the sandbox only opens regular files")

    def hook(event, args, _allowed=ALLOWED_EVENTS, _read_ev=READ_PATH_EVENTS, _write_ev=WRITE_PATH_EVENTS,
             _two=TWO_PATH_EVENTS, _blocked=BLOCKED_MODULES, _explained=EXPLAINED, _check=check_path,
             _type=type, _str=str, _int=int, _flags=WRITE_FLAGS, _Violation=SandboxViolation,
             _ImportError=SandboxImportError, _getframe=sys._getframe,
             _importlib_file="<frozen importlib._bootstrap_external>", _getattr=getattr,
             _own_code=()):
        if event in _allowed:
            return
        if event == "open":
            path, mode, flags = args
            if _type(mode) is _str:
                write = "w" in mode or "a" in mode or "x" in mode or "+" in mode
            else:
                write = _type(flags) is _int and (flags & _flags) != 0
            _check(event, path, write)
            return
        if event == "import":
            name = args[0]
            if name.split(".")[0] in _blocked or name.startswith("ctypes."):
                raise _ImportError(f"importing '{name}' is not allowed in the sandbox", name=name)
            return
        if event in _read_ev:
            _check(event, args[0], False)
            return
        if event in _write_ev:
            _check(event, args[0], True)
            if event in _two:
                _check(event, args[1], True)
            return
        if event == "marshal.loads":
            # imports read cached bytecode with marshal; anything else could build arbitrary code objects
            caller = _getframe(1).f_code
            if caller.co_name == "_compile_bytecode" and caller.co_filename == _importlib_file:
                return
            raise _Violation("marshal.loads is not allowed in the sandbox")
        if event in ("object.__setattr__", "object.__delattr__"):
            # rewriting the code or defaults of the hook's own functions would disarm it
            if _getattr(args[0], "__code__", None) in _own_code:
                raise _Violation(f"changing '{args[1]}' of the sandbox's own functions is not allowed")
            return
        if event == "sqlite3.connect" and args[0] == ":memory:":
            return
        reason = _explained.get(event) or _explained.get(event.split(".")[0])
        raise _Violation(reason or f"'{event}' is not allowed in the sandbox")

    # the hook's last default lists the code of the hook itself, which exists only once the hook is defined
    own_code = (hook.__code__, check_path.__code__, inside.__code__, _normalise.__code__)
    return types.FunctionType(hook.__code__, hook.__globals__, "hook", hook.__defaults__[:-1] + (own_code,))


C_SIZES = {"c_bool": "?", "c_char": "c", "c_byte": "b", "c_ubyte": "B", "c_short": "h", "c_ushort": "H",
           "c_int": "i", "c_uint": "I", "c_long": "l", "c_ulong": "L", "c_longlong": "q", "c_ulonglong": "Q",
           "c_size_t": "N", "c_ssize_t": "n", "c_float": "f", "c_double": "d", "c_void_p": "P", "c_char_p": "P",
           "c_wchar_p": "P"}


def restricted_module(name: str, reason: str, attributes: dict) -> types.ModuleType:
    """A stand-in for a module that code in the sandbox may import but not use: it has ``attributes`` and refuses
    everything else by name. Libraries import ctypes only to ask `sizeof(c_long)` (sympy), and subprocess only to
    define helpers they never call here; the real modules are never loaded."""
    module = types.ModuleType(name, f"{name} in the vista sandbox: {reason}")

    def refuse(attribute):
        if attribute.startswith("__"):  # the import system asks for __path__, __file__ ...: plain absence
            raise AttributeError(attribute)
        raise SandboxViolation(f"{name}.{attribute} is not available in the sandbox: {reason}")

    module.__dict__.update(attributes)
    module.__getattr__ = refuse
    return module


def restricted_ctypes() -> types.ModuleType:
    import struct

    def refuse_value(self, *args):
        raise SandboxViolation(f"creating ctypes values ({type(self).__name__}) is not allowed in the sandbox")

    attributes = {name: type(name, (), {"_size_": struct.calcsize(code), "__init__": refuse_value})
                  for name, code in C_SIZES.items()}
    attributes["sizeof"] = lambda obj: obj._size_
    return restricted_module("ctypes", "ctypes can touch raw memory and call C code; only sizeof() and the C type "
                             "sizes are available", attributes)


def restricted_posixsubprocess() -> types.ModuleType:
    def fork_exec(*args):
        raise SandboxViolation("starting programs is not allowed in the sandbox")

    return restricted_module("_posixsubprocess", "starting programs is not allowed", {"fork_exec": fork_exec})


def report(kind: str, message: str = "") -> None:
    import json

    os.write(VIOLATION_FD, json.dumps({"kind": kind, "message": message[:4000]}).encode("utf-8", "replace"))


def violation_in(exc: BaseException):
    seen = 0
    while exc is not None and seen < 20:
        if getattr(exc, "sandbox_violation", False):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def main() -> None:
    apply_limits()
    sys.path.extend(CONFIG["site_paths"])
    root = CONFIG["root"]
    with open(os.path.join(root, "main.py"), encoding="utf-8") as f:
        source = f.read()
    read_roots = tuple(CONFIG["read_roots"])
    import pathlib  # imported before the hook: exact pathlib types are accepted as paths, subclasses are not

    sys.modules["ctypes"] = restricted_ctypes()
    sys.modules["_posixsubprocess"] = restricted_posixsubprocess()
    sys.addaudithook(make_hook(root, read_roots, (pathlib.PosixPath, pathlib.PurePosixPath)))
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(compile(source, "main.py", "exec"), namespace)
    except SystemExit:
        raise
    except MemoryError:
        report("memory")
        sys.stderr.write("MemoryError: the sandbox's memory limit was reached\n")
        sys.exit(1)
    except BaseException as exc:
        import traceback

        # the policy reads this traceback: show its own frames and the libraries', not the sandbox's
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
        sys.stderr.write("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
                         + "".join(traceback.format_exception_only(type(exc), exc)))
        violation = violation_in(exc)
        if violation is not None:
            report("violation", str(violation))
        sys.exit(1)


main()
