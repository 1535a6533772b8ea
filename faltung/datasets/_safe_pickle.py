"""A safe reader for the pickle subset used by CIFAR-10's Python batches. It never calls ``pickle.load``.

A pickle is a small stack-machine program; ``pickle.load`` runs it, and its ``GLOBAL`` + ``REDUCE``
opcodes can call ANY importable function (``os.system``). This reader interprets the opcodes
itself and produces only plain data: dict, list, tuple, str, bytes, int, float, bool, None and
NumPy arrays. The only "globals" it accepts are names it interprets itself, never imports:

* ``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct`` with
  ``numpy.ndarray``: an array; its ``BUILD`` state ``(version, shape, dtype, fortran, raw bytes)``
  becomes ``np.frombuffer(raw, dtype).reshape(shape)``;
* ``numpy.dtype``: a dtype from a code string such as ``'u1'`` (no object dtypes);
* ``_codecs.encode(text, 'latin1')``: how Python 3 protocol 2 writes ``bytes``.

Anything else (another global, an unknown opcode, a malformed stream) raises ``ValueError``.
"""
import struct

import numpy as np

_RECONSTRUCT = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}
_NDARRAY = ("numpy", "ndarray")
_DTYPE = ("numpy", "dtype")
_ENCODE = ("_codecs", "encode")


class _Global:
    """A whitelisted name, kept as a marker; it is interpreted below, never looked up."""

    def __init__(self, module, name):
        self.key = (module, name)


class _PendingArray:
    """``_reconstruct(ndarray, ...)`` before its BUILD gives it a shape, dtype and bytes."""


class _Mark:
    """The MARK opcode's place on the stack (where a tuple/list/dict's items begin)."""


_MARK = _Mark()


def _text(value):
    """Python 2 pickles hold str as bytes (SHORT_BINSTRING); names and codes are ASCII either way."""
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def _make_dtype(args, where):
    if not args or not isinstance(_text(args[0]), str):
        raise ValueError(f"{where}: numpy.dtype expects a type code string, got {args!r}")
    code = _text(args[0])
    try:
        dtype = np.dtype(code)
    except TypeError as err:
        raise ValueError(f"{where}: unknown dtype code {code!r}") from err
    if dtype.hasobject or dtype.kind not in "biuf":
        raise ValueError(f"{where}: refusing dtype {code!r} (only bool, int, uint and float)")
    return dtype


def _build_dtype(dtype, state, where):
    # state = (version, byteorder, subarray, names, fields, elsize, alignment, flags)
    order = _text(state[1]) if isinstance(state, tuple) and len(state) >= 2 else None
    if order not in ("<", ">", "|", "="):
        raise ValueError(f"{where}: unexpected dtype state {state!r}")
    return dtype.newbyteorder(order) if order in "<>" else dtype


def _build_array(state, where):
    # state = (version, shape, dtype, is_fortran, raw bytes)
    if not (isinstance(state, tuple) and len(state) == 5):
        raise ValueError(f"{where}: unexpected ndarray state {state!r:.200}")
    _, shape, dtype, fortran, raw = state
    if not (isinstance(shape, tuple) and all(isinstance(s, int) and s >= 0 for s in shape)):
        raise ValueError(f"{where}: bad array shape {shape!r}")
    if not isinstance(dtype, np.dtype) or not isinstance(raw, (bytes, bytearray, memoryview)):
        raise ValueError(f"{where}: ndarray state needs a dtype and raw bytes")
    count = int(np.prod(shape))
    if len(raw) != count * dtype.itemsize:
        raise ValueError(f"{where}: array of shape {shape} needs {count * dtype.itemsize} bytes, "
                         f"got {len(raw)}")
    return np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _reduce(func, args, where):
    if not isinstance(func, _Global) or not isinstance(args, tuple):
        raise ValueError(f"{where}: REDUCE of something that is not a whitelisted global")
    if func.key in _RECONSTRUCT:
        if not args or not (isinstance(args[0], _Global) and args[0].key == _NDARRAY):
            raise ValueError(f"{where}: _reconstruct is accepted only for numpy.ndarray")
        return _PendingArray()
    if func.key == _DTYPE:
        return _make_dtype(args, where)
    if func.key == _ENCODE:
        if len(args) != 2 or not isinstance(args[0], str) or args[1] != "latin1":
            raise ValueError(f"{where}: _codecs.encode is accepted only as encode(text, 'latin1')")
        return args[0].encode("latin1")
    raise ValueError(f"{where}: refusing to call {'.'.join(func.key)}")


def _build(obj, state, where):
    if isinstance(obj, _PendingArray):
        return _build_array(state, where)
    if isinstance(obj, np.dtype):
        return _build_dtype(obj, state, where)
    raise ValueError(f"{where}: BUILD is accepted only for numpy arrays and dtypes")


def _check_global(module, name, where):
    key = (module, name)
    if key in _RECONSTRUCT or key in (_NDARRAY, _DTYPE, _ENCODE):
        return _Global(module, name)
    raise ValueError(f"{where}: refusing global {module}.{name} (only numpy arrays are allowed)")


def loads(data, name="<pickle>"):
    """The value of a pickle (protocols 2 to 4, the subset above) as plain data. ``name`` is for errors."""
    mv = memoryview(data)
    pos, stack, memo = 0, [], {}
    end = len(mv)

    def take(n):
        nonlocal pos
        if pos + n > end:
            raise ValueError(f"{name}: pickle data cut short at byte {pos}")
        chunk = mv[pos:pos + n]
        pos += n
        return chunk

    def pop_mark():
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is _MARK:
                items = stack[i + 1:]
                del stack[i:]
                return items
        raise ValueError(f"{name}: pickle MARK missing")

    def u(fmt, n):
        return struct.unpack(fmt, take(n))[0]

    while True:
        op = bytes(take(1))
        where = f"{name} (byte {pos - 1})"
        if op == b"\x80":                                   # PROTO
            proto = take(1)[0]
            if proto > 5:
                raise ValueError(f"{where}: unsupported pickle protocol {proto}")
        elif op == b"\x95":                                 # FRAME (protocol 4): just a length
            take(8)
        elif op == b".":                                    # STOP
            if len(stack) != 1:
                raise ValueError(f"{name}: malformed pickle (stack of {len(stack)} at STOP)")
            return _finish(stack[0], name)
        elif op == b"(":
            stack.append(_MARK)
        elif op == b"}":
            stack.append({})
        elif op == b"]":
            stack.append([])
        elif op == b")":
            stack.append(())
        elif op == b"N":
            stack.append(None)
        elif op == b"\x88":
            stack.append(True)
        elif op == b"\x89":
            stack.append(False)
        elif op == b"K":                                    # BININT1
            stack.append(take(1)[0])
        elif op == b"M":                                    # BININT2
            stack.append(u("<H", 2))
        elif op == b"J":                                    # BININT
            stack.append(u("<i", 4))
        elif op == b"\x8a":                                 # LONG1
            n = take(1)[0]
            stack.append(int.from_bytes(take(n), "little", signed=True))
        elif op == b"G":                                    # BINFLOAT
            stack.append(u(">d", 8))
        elif op == b"U":                                    # SHORT_BINSTRING (Python 2 str -> bytes)
            stack.append(bytes(take(take(1)[0])))
        elif op == b"T":                                    # BINSTRING: kept as a view, no copy
            stack.append(take(u("<i", 4)))
        elif op == b"C":                                    # SHORT_BINBYTES
            stack.append(bytes(take(take(1)[0])))
        elif op == b"B":                                    # BINBYTES
            stack.append(take(u("<I", 4)))
        elif op == b"\x8e":                                 # BINBYTES8
            stack.append(take(u("<Q", 8)))
        elif op == b"\x8c":                                 # SHORT_BINUNICODE
            stack.append(str(take(take(1)[0]), "utf-8"))
        elif op == b"X":                                    # BINUNICODE
            stack.append(str(take(u("<I", 4)), "utf-8"))
        elif op in (b"q", b"r", b"\x94"):                   # BINPUT, LONG_BINPUT, MEMOIZE
            key = take(1)[0] if op == b"q" else (u("<I", 4) if op == b"r" else len(memo))
            if not stack:
                raise ValueError(f"{where}: memo store on an empty stack")
            memo[key] = stack[-1]
        elif op in (b"h", b"j"):                            # BINGET, LONG_BINGET
            key = take(1)[0] if op == b"h" else u("<I", 4)
            if key not in memo:
                raise ValueError(f"{where}: memo key {key} not defined")
            stack.append(memo[key])
        elif op in (b"\x85", b"\x86", b"\x87"):             # TUPLE1, TUPLE2, TUPLE3
            n = op[0] - 0x84
            if len(stack) < n:
                raise ValueError(f"{where}: stack underflow")
            items = tuple(stack[-n:])
            del stack[-n:]
            stack.append(items)
        elif op == b"t":
            stack.append(tuple(pop_mark()))
        elif op == b"l":
            stack.append(pop_mark())
        elif op == b"d":
            items = pop_mark()
            stack.append(dict(zip(items[0::2], items[1::2])))
        elif op == b"a":                                    # APPEND
            item = stack.pop()
            _expect(stack, list, where).append(item)
        elif op == b"e":                                    # APPENDS
            items = pop_mark()
            _expect(stack, list, where).extend(items)
        elif op == b"s":                                    # SETITEM
            value, key = stack.pop(), stack.pop()
            _expect(stack, dict, where)[_hashable(key, where)] = value
        elif op == b"u":                                    # SETITEMS
            items = pop_mark()
            target = _expect(stack, dict, where)
            for k, v in zip(items[0::2], items[1::2]):
                target[_hashable(k, where)] = v
        elif op == b"c":                                    # GLOBAL "module\nname\n"
            module = _readline(mv, pos, end, where)
            pos += len(module) + 1
            qualname = _readline(mv, pos, end, where)
            pos += len(qualname) + 1
            stack.append(_check_global(module, qualname, where))
        elif op == b"\x93":                                 # STACK_GLOBAL
            qualname, module = stack.pop(), stack.pop()
            if not (isinstance(module, str) and isinstance(qualname, str)):
                raise ValueError(f"{where}: STACK_GLOBAL needs two strings")
            stack.append(_check_global(module, qualname, where))
        elif op == b"R":                                    # REDUCE: interpreted, never called
            args, func = stack.pop(), stack.pop()
            stack.append(_reduce(func, args, where))
        elif op == b"b":                                    # BUILD
            state = stack.pop()
            stack[-1] = _build(_expect(stack, object, where), state, where)
        else:
            raise ValueError(f"{where}: unsupported pickle opcode {op!r}")


def _readline(mv, pos, end, where):
    stop = bytes(mv[pos:min(end, pos + 256)]).find(b"\n")
    if stop < 0:
        raise ValueError(f"{where}: GLOBAL name not terminated")
    return str(mv[pos:pos + stop], "ascii")


def _expect(stack, kind, where):
    if not stack or stack[-1] is _MARK or not isinstance(stack[-1], kind):
        raise ValueError(f"{where}: expected a {kind.__name__} on the stack")
    return stack[-1]


def _hashable(key, where):
    if isinstance(key, memoryview):
        key = bytes(key)
    if not isinstance(key, (str, bytes, int, float, bool, type(None), tuple)):
        raise ValueError(f"{where}: dict key of type {type(key).__name__} refused")
    return key


def _finish(value, name):
    """Turn the leftovers of interpretation into plain data (views -> bytes), refusing markers."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, (str, bytes, int, float, bool, type(None), np.ndarray)):
        return value
    if isinstance(value, list):
        return [_finish(v, name) for v in value]
    if isinstance(value, tuple):
        return tuple(_finish(v, name) for v in value)
    if isinstance(value, dict):
        return {k: _finish(v, name) for k, v in value.items()}
    raise ValueError(f"{name}: pickle produced a {type(value).__name__}, which is not plain data")
