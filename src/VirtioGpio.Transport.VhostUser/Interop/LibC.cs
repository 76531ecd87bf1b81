// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;

namespace VirtioGpio.Transport.VhostUser.Interop;

/// <summary>
/// Raw Linux libc entry points used by the vhost-user transport (and, through
/// InternalsVisibleTo, by the front-end client in VirtioGpio.Device.Testing).
/// </summary>
/// <remarks>
/// <para>Source-generated <see cref="LibraryImportAttribute"/> stubs (AOT-friendly). Every call
/// sets the last error: read it with <see cref="Marshal.GetLastPInvokeError"/> right after a
/// failing call. Constants are the Linux values shared by x86-64 and arm64 (asm-generic); the
/// transport refuses to run on other operating systems.</para>
/// <para>Functions return the raw C result: -1 (or <see cref="MapFailed"/>) on failure.</para>
/// </remarks>
internal static unsafe partial class LibC
{
    /// <summary>The C library. "libc" is mapped by the .NET host to the platform's libc on Linux.</summary>
    private const string Lib = "libc";

    // ----- errno -----
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EINVAL = 22;
    public const int EMFILE = 24;
    public const int EPIPE = 32;
    public const int EADDRINUSE = 98;
    public const int ECONNRESET = 104;
    public const int ETIMEDOUT = 110;
    public const int ECONNREFUSED = 111;

    // ----- sockets -----
    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_RCVTIMEO = 20;
    public const int SO_SNDTIMEO = 21;
    public const int SCM_RIGHTS = 1;
    public const int MSG_CTRUNC = 0x8;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;
    public const int SHUT_RDWR = 2;

    /// <summary>Size of <c>struct sockaddr_un</c>: <c>sa_family_t sun_family; char sun_path[108]</c>.</summary>
    public const int SockaddrUnSize = 110;

    /// <summary>Longest <c>sun_path</c> (without the terminating NUL).</summary>
    public const int MaxSocketPathBytes = 107;

    // ----- files -----
    public const int F_GETFD = 1;
    public const int F_SETFD = 2;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int FD_CLOEXEC = 1;
    public const int O_NONBLOCK = 0x800;
    public const int S_IFMT = 0xF000;
    public const int S_IFSOCK = 0xC000;
    public const int S_IFREG = 0x8000;

    // ----- memory -----
    public const int PROT_READ = 1;
    public const int PROT_WRITE = 2;
    public const int MAP_SHARED = 1;
    public const uint MFD_CLOEXEC = 1;
    public const uint MFD_ALLOW_SEALING = 2;

    /// <summary><c>MAP_FAILED</c>, the <c>(void*)-1</c> that <see cref="mmap"/> returns on failure.</summary>
    public static readonly nint MapFailed = -1;

    // ----- eventfd / epoll -----
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x1;
    public const uint EPOLLERR = 0x8;
    public const uint EPOLLHUP = 0x10;
    public const uint EPOLLRDHUP = 0x2000;

    // ----- poll -----
    public const short POLLIN = 0x1;

    [LibraryImport(Lib, EntryPoint = "socket", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Lib, EntryPoint = "socketpair", SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport(Lib, EntryPoint = "bind", SetLastError = true)]
    public static partial int bind(int fd, byte* address, uint addressLength);

    [LibraryImport(Lib, EntryPoint = "listen", SetLastError = true)]
    public static partial int listen(int fd, int backlog);

    [LibraryImport(Lib, EntryPoint = "accept4", SetLastError = true)]
    public static partial int accept4(int fd, byte* address, uint* addressLength, int flags);

    [LibraryImport(Lib, EntryPoint = "connect", SetLastError = true)]
    public static partial int connect(int fd, byte* address, uint addressLength);

    [LibraryImport(Lib, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    [LibraryImport(Lib, EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, void* value, uint length);

    [LibraryImport(Lib, EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint recvmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Lib, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint sendmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Lib, EntryPoint = "dup", SetLastError = true)]
    public static partial int dup(int fd);

    [LibraryImport(Lib, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport(Lib, EntryPoint = "memfd_create", SetLastError = true)]
    public static partial int memfd_create(byte* name, uint flags);

    [LibraryImport(Lib, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int ftruncate(int fd, long length);

    /// <summary><c>fstat</c>; <paramref name="statBuffer"/> must hold at least <see cref="StatBufferSize"/> bytes.</summary>
    [LibraryImport(Lib, EntryPoint = "fstat", SetLastError = true)]
    public static partial int fstat(int fd, byte* statBuffer);

    /// <summary><c>lstat</c>; <paramref name="statBuffer"/> must hold at least <see cref="StatBufferSize"/> bytes.</summary>
    [LibraryImport(Lib, EntryPoint = "lstat", SetLastError = true)]
    public static partial int lstat(byte* path, byte* statBuffer);

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    public static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Lib, EntryPoint = "munmap", SetLastError = true)]
    public static partial int munmap(nint address, nuint length);

    [LibraryImport(Lib, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int eventfd(uint initialValue, int flags);

    [LibraryImport(Lib, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    /// <summary><c>epoll_ctl</c>; <paramref name="eventBuffer"/> points to one <c>struct epoll_event</c> (<see cref="EpollEventSize"/> bytes).</summary>
    [LibraryImport(Lib, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int operation, int fd, byte* eventBuffer);

    /// <summary><c>epoll_wait</c>; <paramref name="eventBuffer"/> holds <paramref name="maxEvents"/> × <see cref="EpollEventSize"/> bytes.</summary>
    [LibraryImport(Lib, EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int epoll_wait(int epfd, byte* eventBuffer, int maxEvents, int timeoutMilliseconds);

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport(Lib, EntryPoint = "getpagesize")]
    public static partial int getpagesize();

    /// <summary>Bytes reserved for a <c>struct stat</c> (144 on x86-64, 128 on arm64).</summary>
    public const int StatBufferSize = 256;

    /// <summary>
    /// <c>sizeof(struct epoll_event)</c>: 12 on x86-64, where the struct is packed; 16 elsewhere
    /// (arm64), where <c>data</c> is 8-byte aligned.
    /// </summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    /// <summary>Offset of <c>epoll_event.data</c>.</summary>
    public static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    /// <summary>Offset of <c>st_size</c> in <c>struct stat</c> (48 on both x86-64 and arm64).</summary>
    public const int StatSizeOffset = 48;

    /// <summary>Offset of <c>st_mode</c> in <c>struct stat</c>: 24 on x86-64, 16 on arm64 (asm-generic).</summary>
    public static readonly int StatModeOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;

    /// <summary>The errno of the last failing call on this thread.</summary>
    public static int LastError => Marshal.GetLastPInvokeError();

    /// <summary><c>CMSG_ALIGN</c>: cmsg data is aligned to <c>sizeof(size_t)</c>.</summary>
    public static int CmsgAlign(int length) => (length + (sizeof(nuint) - 1)) & ~(sizeof(nuint) - 1);

    /// <summary><c>CMSG_LEN(n)</c>: header (16 bytes on 64-bit) plus <paramref name="dataLength"/>.</summary>
    public static int CmsgLen(int dataLength) => CmsgAlign(sizeof(CmsgHdr)) + dataLength;

    /// <summary><c>CMSG_SPACE(n)</c>.</summary>
    public static int CmsgSpace(int dataLength) => CmsgAlign(sizeof(CmsgHdr)) + CmsgAlign(dataLength);

    /// <summary><c>struct msghdr</c> (glibc/musl 64-bit layout; musl's int-sized lengths are layout-compatible when the upper halves are zero).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary><c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary><c>struct cmsghdr</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    /// <summary><c>struct pollfd</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    /// <summary><c>struct timeval</c> (64-bit).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }
}
