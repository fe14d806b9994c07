/*
 * kvmfs wire format: the frames the preload shim and the daemon exchange on a
 * SOCK_SEQPACKET Unix socket. One frame per packet; file descriptors travel
 * beside a frame as SCM_RIGHTS. Both ends are little-endian and the layouts
 * below are fixed (no pointers, explicit padding), so a 64-bit x86 daemon and
 * an aarch64 shim under qemu-user agree. protocol/Wire/WireFormat.cs holds the
 * same definitions for C#; tests/Kvmfs.Daemon.Tests checks the two agree.
 *
 * Conversation on one connection (strictly request/reply, one at a time):
 *   shim   -> HELLO            daemon -> HELLO_REPLY      (first frame, always)
 *   shim   -> OPEN_DEVICE      daemon -> OPEN_REPLY       (open("/dev/kvm"))
 *   shim   -> IOCTL            daemon -> [callback ...] IOCTL_REPLY
 *   shim   -> KICK, CLOSE      (no reply)
 * While the daemon runs an ioctl it may call back into the shim, the way the
 * kernel reaches user memory and the fd table:
 *   daemon -> COPY_FROM_USER   shim -> USER_DATA
 *   daemon -> COPY_TO_USER     shim -> USER_STATUS
 *   daemon -> GET_FILE         shim -> USER_STATUS + the fd (SCM_RIGHTS)
 *   daemon -> SHARE_MEMORY     shim -> USER_STATUS + a memfd (SCM_RIGHTS)
 * A frame the daemon cannot accept gets ERROR_REPLY (or the connection closes).
 */
#ifndef KVMFS_WIRE_H
#define KVMFS_WIRE_H

#include <stdint.h>

#define KVMFS_WIRE_MAGIC    0x464d564bu   /* "KVMF" in memory order */
#define KVMFS_WIRE_VERSION  1u

/* Largest frame either side sends: a 16 KiB ioctl struct (the _IOC size field
 * is 14 bits) or one chunk of a user copy, plus the header. */
#define KVMFS_WIRE_MAX_DATA   65536u
#define KVMFS_WIRE_MAX_FRAME  (KVMFS_WIRE_MAX_DATA + 64u)

/* Default socket; KVMFS_SOCKET in the environment overrides it. */
#define KVMFS_WIRE_DEFAULT_SOCKET "/run/kvmfs/kvmfs.sock"

enum kvmfs_msg_type {
	/* shim -> daemon requests */
	KVMFS_MSG_HELLO          = 0x01,
	KVMFS_MSG_OPEN_DEVICE    = 0x02,
	KVMFS_MSG_IOCTL          = 0x03,
	KVMFS_MSG_KICK           = 0x04,
	KVMFS_MSG_CLOSE          = 0x05,
	/* shim -> daemon answers to callbacks */
	KVMFS_MSG_USER_DATA      = 0x11,
	KVMFS_MSG_USER_STATUS    = 0x12,
	/* daemon -> shim callbacks (only while an IOCTL is being served) */
	KVMFS_MSG_COPY_FROM_USER = 0x41,
	KVMFS_MSG_COPY_TO_USER   = 0x42,
	KVMFS_MSG_GET_FILE       = 0x43,
	KVMFS_MSG_SHARE_MEMORY   = 0x44,
	/* daemon -> shim replies */
	KVMFS_MSG_HELLO_REPLY    = 0x81,
	KVMFS_MSG_OPEN_REPLY     = 0x82,
	KVMFS_MSG_IOCTL_REPLY    = 0x83,
	KVMFS_MSG_ERROR_REPLY    = 0xff,
};

/* Every frame starts with this. size counts the whole frame, header included. */
struct kvmfs_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;      /* per type, see below */
	uint32_t size;
	uint32_t reserved;   /* zero */
};

/* HELLO flags */
#define KVMFS_HELLO_NEW_SESSION 0x1  /* first connection of a process: create its session */

struct kvmfs_hello {
	struct kvmfs_hdr hdr;
	uint64_t token;      /* random per process; later connections join with it */
	uint32_t version;    /* KVMFS_WIRE_VERSION */
	uint32_t pid;        /* getpid(); must match the peer credentials */
};

struct kvmfs_hello_reply {
	struct kvmfs_hdr hdr;
	int32_t error;       /* 0 or a positive errno */
	uint32_t version;
};

struct kvmfs_open_device {
	struct kvmfs_hdr hdr;
};

struct kvmfs_open_reply {
	struct kvmfs_hdr hdr;
	int32_t error;       /* 0 or a positive errno (open() fails with it) */
	uint32_t handle;     /* names the system object in later frames */
};

/* IOCTL: data holds the _IOC_SIZE struct bytes for _IOW/_IOWR, else nothing. */
struct kvmfs_ioctl {
	struct kvmfs_hdr hdr;
	uint32_t handle;
	uint32_t cmd;
	uint64_t arg;
	uint32_t data_len;
	uint32_t reserved;
	uint8_t data[];
};

/* IOCTL_REPLY flags */
#define KVMFS_REPLY_NEW_OBJECT 0x1   /* new_handle names a new object: make an fd for it */
#define KVMFS_REPLY_FD_ATTACHED 0x2  /* that fd arrived with this frame (a vCPU's kvm_run memfd) */

/* result: the ioctl's return value or -errno. For a new object the fd goes to
 * the return value when new_fd_offset is -1, else as an int at that offset of
 * data. data is the struct copied back for _IOR/_IOWR on success. */
struct kvmfs_ioctl_reply {
	struct kvmfs_hdr hdr;
	int64_t result;
	uint32_t new_handle;
	int32_t new_fd_offset;
	uint32_t data_len;
	uint32_t reserved;
	uint8_t data[];
};

struct kvmfs_kick {
	struct kvmfs_hdr hdr;
	uint32_t handle;     /* the vCPU whose KVM_RUN must return -EINTR */
	uint32_t reserved;
};

struct kvmfs_close {
	struct kvmfs_hdr hdr;
	uint32_t handle;     /* the last fd for this object was closed */
	uint32_t reserved;
};

struct kvmfs_copy_from_user {
	struct kvmfs_hdr hdr;
	uint64_t addr;
	uint64_t len;        /* at most KVMFS_WIRE_MAX_DATA */
};

struct kvmfs_copy_to_user {
	struct kvmfs_hdr hdr;
	uint64_t addr;
	uint64_t len;
	uint8_t data[];
};

struct kvmfs_get_file {
	struct kvmfs_hdr hdr;
	int32_t fd;          /* the VMM's fd number */
	uint32_t reserved;
};

struct kvmfs_share_memory {
	struct kvmfs_hdr hdr;
	uint64_t addr;       /* page aligned */
	uint64_t size;       /* page multiple */
};

struct kvmfs_user_data {
	struct kvmfs_hdr hdr;
	int32_t error;       /* 0 or a positive errno (EFAULT) */
	uint32_t len;
	uint8_t data[];
};

/* USER_STATUS answers COPY_TO_USER, GET_FILE (fd attached) and SHARE_MEMORY
 * (memfd attached; value = offset of addr inside that memfd). */
struct kvmfs_user_status {
	struct kvmfs_hdr hdr;
	int32_t error;
	uint32_t reserved;
	uint64_t value;
};

struct kvmfs_error_reply {
	struct kvmfs_hdr hdr;
	int32_t error;       /* positive errno: EPROTO, EBADF, EINVAL, ... */
	uint32_t reserved;
};

#endif
