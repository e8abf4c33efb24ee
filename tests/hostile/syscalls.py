# Syscalls Docker 20.10's default seccomp profile allows but no scoring job needs.
import ctypes
import errno
import socket

libc = ctypes.CDLL(None, use_errno=True)


def denied(code):
    # The profile denies with EPERM; an unmatched syscall gets the default ENOSYS.
    return "denied" if code in (errno.EPERM, errno.ENOSYS) else errno.errorcode[code]


def syscall(number, *args):
    if libc.syscall(number, *args) >= 0:
        return "allowed"
    return denied(ctypes.get_errno())


def open_socket(family):
    try:
        socket.socket(family, socket.SOCK_STREAM).close()
        return "allowed"
    except OSError as err:
        return denied(err.errno)


params = ctypes.create_string_buffer(120)
rows = [
    ("io_uring_setup", syscall(425, 4, params)),  # x86_64 numbers
    ("af_vsock", open_socket(40)),
    ("unshare_user", syscall(272, 0x10000000)),
    ("af_unix", open_socket(socket.AF_UNIX)),  # what jobs do need still works
]
with open("/output/predictions.csv", "w") as out:
    out.write("probe,result\n" + "".join(f"{name},{result}\n" for name, result in rows))
