/*
 * libkvmfs-preload.so: the kvmfs front end that lives inside the VMM.
 *
 * Loaded with LD_PRELOAD into an unmodified VMM (natively, or inside an arm64
 * VMM under qemu-aarch64-static), it answers open("/dev/kvm") and the KVM
 * ioctls on the fds it hands out by talking to the kvmfs daemon over a
 * SOCK_SEQPACKET Unix socket (format: kvmfs-wire.h, docs/shim.md).
 *
 * The shim knows almost nothing about individual ioctls: it ships the command,
 * the argument and the _IOC_SIZE struct bytes, and the daemon calls back for
 * anything else it needs (copy_from_user, copy_to_user, fget, guest RAM).
 * What it must know: which fds are KVM fds, how to make an fd for a new
 * object, KVM_RUN's signal behaviour and KVM_SET_SIGNAL_MASK, and which guest
 * RAM it moved into its one arena memfd (munmap is watched to forget it).
 *
 * Every other call passes straight to the next definition (dlsym RTLD_NEXT).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kvmfs-wire.h"

#define KVMIO_TYPE 0xAE
#define CMD_KVM_RUN 0xAE80u
#define CMD_KVM_SET_SIGNAL_MASK 0x4004AE8Bu
#define EXPORT __attribute__((visibility("default")))

/* ---- the real libc entry points ---------------------------------------- */

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real___open_2)(const char *, int);
static int (*real___open64_2)(const char *, int);
static int (*real___openat_2)(int, const char *, int);
static int (*real___openat64_2)(int, const char *, int);
static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_close)(int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_fcntl)(int, int, ...);
static int (*real_fcntl64)(int, int, ...);
static int (*real_pthread_kill)(pthread_t, int);
static int (*real_munmap)(void *, size_t);

static void *next_symbol(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void resolve_real(void)
{
	/* Plain stores: resolving twice from two threads gives the same answer. */
	if (real_ioctl)
		return;
	real_open = next_symbol("open");
	real_open64 = next_symbol("open64");
	real_openat = next_symbol("openat");
	real_openat64 = next_symbol("openat64");
	real___open_2 = next_symbol("__open_2");
	real___open64_2 = next_symbol("__open64_2");
	real___openat_2 = next_symbol("__openat_2");
	real___openat64_2 = next_symbol("__openat64_2");
	real_close = next_symbol("close");
	real_dup = next_symbol("dup");
	real_dup2 = next_symbol("dup2");
	real_dup3 = next_symbol("dup3");
	real_fcntl = next_symbol("fcntl");
	real_fcntl64 = next_symbol("fcntl64");
	real_pthread_kill = next_symbol("pthread_kill");
	real_munmap = next_symbol("munmap");
	__atomic_store_n(&real_ioctl, (int (*)(int, unsigned long, ...))next_symbol("ioctl"), __ATOMIC_RELEASE);
}

/* Our own plumbing must not go through our own interposers. */
static int sys_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

static int sys_munmap(void *addr, size_t len)
{
	return (int)syscall(SYS_munmap, addr, len);
}

static int debug_enabled;

static void debug(const char *fmt, ...)
{
	if (!debug_enabled)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "kvmfs-preload[%d]: ", getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- KVM objects and the fds that name them ----------------------------- */

struct kobj {
	uint32_t handle;     /* the daemon's name for the object */
	int refs;            /* fds in this process that refer to it */
	int foreign;         /* inherited through fork: ioctls fail with EIO, as on KVM */
	int has_sigmask;     /* KVM_SET_SIGNAL_MASK was given (vCPU) */
	sigset_t sigmask;    /* the mask KVM_RUN waits with */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kobj **g_fds;          /* fd -> object, NULL when not ours */
static int g_nfds;
static int g_any;                    /* set once the first KVM fd exists: fast path for everyone else */
static char g_device_path[512];
static char g_socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static struct kobj *lookup_locked(int fd)
{
	return (fd >= 0 && fd < g_nfds) ? g_fds[fd] : NULL;
}

static int install_locked(int fd, struct kobj *o)
{
	if (fd >= g_nfds) {
		int n = g_nfds ? g_nfds : 256;
		while (n <= fd)
			n *= 2;
		struct kobj **t = realloc(g_fds, (size_t)n * sizeof *t);
		if (!t)
			return -ENOMEM;
		memset(t + g_nfds, 0, (size_t)(n - g_nfds) * sizeof *t);
		g_fds = t;
		g_nfds = n;
	}
	g_fds[fd] = o;
	o->refs++;
	__atomic_store_n(&g_any, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Takes fd out of the table; returns its object if that was the last reference. */
static struct kobj *uninstall_locked(int fd)
{
	struct kobj *o = lookup_locked(fd);
	if (!o)
		return NULL;
	g_fds[fd] = NULL;
	return --o->refs == 0 ? o : NULL;
}

/* ---- per-thread state: connection, buffers, KVM_RUN bookkeeping ---------- */

struct tstate {
	pthread_t self;
	int conn;                 /* this thread's connection, -1 before the first use */
	pid_t conn_pid;           /* the process that made it (fork invalidates it) */
	int busy;                 /* inside a round trip: a nested call (signal handler) must not reuse conn */
	volatile int in_run;      /* blocked in KVM_RUN */
	uint32_t run_handle;
	int kicked;               /* a KICK was sent for this KVM_RUN */
	sigset_t run_mask;        /* the mask the thread waits with inside KVM_RUN */
	uint8_t tx[KVMFS_WIRE_MAX_FRAME];
	uint8_t rx[KVMFS_WIRE_MAX_FRAME];
};

#define MAX_THREADS 1024
static struct tstate *g_threads[MAX_THREADS];
static pthread_key_t g_tkey;
static pthread_once_t g_tkey_once = PTHREAD_ONCE_INIT;

/* The session: one per process, anchored by the control connection, which lives as long as
 * the process and carries kicks (a thread in KVM_RUN has its own connection busy). */
static pthread_mutex_t g_ctl_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_ctl = -1;
static pid_t g_session_pid;
static uint64_t g_token;

static void thread_exit(void *p)
{
	struct tstate *ts = p;
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < MAX_THREADS; i++)
		if (g_threads[i] == ts)
			g_threads[i] = NULL;
	pthread_mutex_unlock(&g_lock);
	if (ts->conn >= 0 && ts->conn_pid == getpid())
		sys_close(ts->conn);
	free(ts);
}

static void make_key(void)
{
	pthread_key_create(&g_tkey, thread_exit);
}

static struct tstate *thread_state(void)
{
	pthread_once(&g_tkey_once, make_key);
	struct tstate *ts = pthread_getspecific(g_tkey);
	if (ts)
		return ts;
	ts = calloc(1, sizeof *ts);
	if (!ts)
		return NULL;
	ts->self = pthread_self();
	ts->conn = -1;
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < MAX_THREADS; i++)
		if (!g_threads[i]) {
			g_threads[i] = ts;
			break;
		}
	pthread_mutex_unlock(&g_lock);
	pthread_setspecific(g_tkey, ts);
	return ts;
}

/* ---- frames ----------------------------------------------------------- */

static void set_header(void *frame, uint16_t type, uint16_t flags, uint32_t size)
{
	struct kvmfs_hdr *h = frame;
	h->magic = KVMFS_WIRE_MAGIC;
	h->type = type;
	h->flags = flags;
	h->size = size;
	h->reserved = 0;
}

static int send_frame(int sock, const void *frame, size_t len, int fd)
{
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };
	union { struct cmsghdr c; char b[CMSG_SPACE(sizeof(int))]; } u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&u, 0, sizeof u);
		m.msg_control = u.b;
		m.msg_controllen = sizeof u.b;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/* Receives one frame; *fd gets an attached descriptor or -1. Returns its length, 0 at EOF. */
static ssize_t recv_frame(int sock, void *buf, size_t cap, int *fd)
{
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	union { struct cmsghdr c; char b[CMSG_SPACE(4 * sizeof(int))]; } u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b };
	ssize_t n;
	*fd = -1;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < count; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
			if (*fd < 0)
				*fd = f;
			else
				sys_close(f);
		}
	}
	if (n > 0 && ((size_t)n < sizeof(struct kvmfs_hdr) || ((struct kvmfs_hdr *)buf)->magic != KVMFS_WIRE_MAGIC)) {
		if (*fd >= 0)
			sys_close(*fd);
		*fd = -1;
		errno = EPROTO;
		return -1;
	}
	return n;
}

/* Keeps our sockets out of the low fd numbers a VMM likes to dup2 over. */
static int move_high(int fd)
{
	int hi = real_fcntl ? real_fcntl(fd, F_DUPFD_CLOEXEC, 700) : -1;
	if (hi < 0)
		return fd;
	sys_close(fd);
	return hi;
}

static int connect_daemon(uint16_t hello_flags)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, g_socket_path, sizeof a.sun_path);
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		int e = errno;
		sys_close(s);
		return -e;
	}
	s = move_high(s);
	struct kvmfs_hello h;
	memset(&h, 0, sizeof h);
	set_header(&h, KVMFS_MSG_HELLO, hello_flags, sizeof h);
	h.token = g_token;
	h.version = KVMFS_WIRE_VERSION;
	h.pid = (uint32_t)getpid();
	struct kvmfs_hello_reply r;
	int fd;
	if (send_frame(s, &h, sizeof h, -1) < 0 || recv_frame(s, &r, sizeof r, &fd) != (ssize_t)sizeof r ||
	    r.hdr.type != KVMFS_MSG_HELLO_REPLY) {
		sys_close(s);
		return -ECONNREFUSED;
	}
	if (r.error) {
		sys_close(s);
		return -r.error;
	}
	return s;
}

/* Makes sure this process has its session (the control connection). Caller holds g_ctl_lock. */
static int ensure_session_locked(void)
{
	if (g_ctl >= 0 && g_session_pid == getpid())
		return 0;
	uint64_t token = 0;
	if (getrandom(&token, sizeof token, 0) != (ssize_t)sizeof token)
		token = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&token;
	g_token = token | 1;
	int s = connect_daemon(KVMFS_HELLO_NEW_SESSION);
	if (s < 0) {
		fprintf(stderr, "kvmfs-preload: cannot reach the kvmfs daemon at %s: %s\n", g_socket_path, strerror(-s));
		return s;
	}
	g_ctl = s;
	g_session_pid = getpid();
	debug("session %llx on %s", (unsigned long long)g_token, g_socket_path);
	return 0;
}

/* This thread's connection (made on first use). -errno on failure. */
static int thread_conn(struct tstate *ts)
{
	if (ts->conn >= 0 && ts->conn_pid == getpid())
		return ts->conn;
	if (ts->conn >= 0)
		sys_close(ts->conn);   /* our copy of the parent's connection after fork */
	ts->conn = -1;
	pthread_mutex_lock(&g_ctl_lock);
	int r = ensure_session_locked();
	pthread_mutex_unlock(&g_ctl_lock);
	if (r < 0)
		return r;
	int s = connect_daemon(0);
	if (s < 0)
		return s;
	ts->conn = s;
	ts->conn_pid = getpid();
	return s;
}

/* Tells the daemon to make the vCPU's KVM_RUN return -EINTR. */
static void send_kick(uint32_t handle)
{
	struct kvmfs_kick k;
	memset(&k, 0, sizeof k);
	set_header(&k, KVMFS_MSG_KICK, 0, sizeof k);
	k.handle = handle;
	pthread_mutex_lock(&g_ctl_lock);
	if (ensure_session_locked() == 0)
		send_frame(g_ctl, &k, sizeof k, -1);
	pthread_mutex_unlock(&g_ctl_lock);
	debug("kick handle %u", handle);
}

/* One KICK per KVM_RUN, whoever notices the signal first. */
static int claim_kick(struct tstate *ts)
{
	return !__atomic_exchange_n(&ts->kicked, 1, __ATOMIC_ACQ_REL);
}

/* ---- the daemon's callbacks into our memory and fd table ----------------- */

static long page_size(void)
{
	static long ps;
	if (!ps)
		ps = sysconf(_SC_PAGESIZE);
	return ps;
}

/* A cheap check that [addr, addr+len) is mapped, so a bad pointer from the VMM becomes EFAULT
 * (as copy_from_user) rather than a crash. */
static int range_mapped(uint64_t addr, uint64_t len)
{
	if (addr == 0 || addr + len < addr)
		return 0;
	if (len == 0)
		return 1;
	uintptr_t ps = (uintptr_t)page_size();
	uintptr_t start = (uintptr_t)addr & ~(ps - 1);
	uintptr_t end = ((uintptr_t)(addr + len) + ps - 1) & ~(ps - 1);
	unsigned char vec[64];
	while (start < end) {
		uintptr_t chunk = end - start;
		if (chunk > 64 * ps)
			chunk = 64 * ps;
		if (mincore((void *)start, chunk, vec) < 0 && errno == ENOMEM)
			return 0;
		start += chunk;
	}
	return 1;
}

/* Guest RAM lives in ONE memfd per process, the arena: every range the daemon asks for is moved
 * into it in place at the next free offset, and the daemon gets (arena fd, offset). One fd in all,
 * however many memslots there are (KVM allows 32767; one memfd per slot ran into RLIMIT_NOFILE).
 * The arena is sparse: only pages the VMM or the guest touched take memory. A range asked for
 * again (a slot deleted and re-added, or a sub-range) is shared again at its arena offset, so
 * the daemon's new mapping shows the same bytes as the VMM's. */
struct moved_range {
	uintptr_t start;
	size_t size;
	uint64_t arena_off;  /* where the range lives in the arena */
};
static struct moved_range *g_moved;
static int g_nmoved;
static int g_arena = -1;        /* the arena memfd, or -1 before the first move */
static uint64_t g_arena_size;   /* bytes handed out so far (the arena's length) */

/* Moves [addr, addr+size) into the arena in place: same addresses, same contents, now MAP_SHARED.
 * Only resident pages are copied; the rest of an anonymous mapping is zero, as is the new space.
 * Called with g_lock held. */
static int move_to_arena(uintptr_t addr, size_t size, uint64_t *arena_off)
{
	size_t ps = (size_t)page_size();
	size_t pages = size / ps;
	unsigned char *vec = malloc(pages ? pages : 1);
	if (!vec)
		return ENOMEM;
	if (mincore((void *)addr, size, vec) < 0) {
		int e = errno == ENOMEM ? EFAULT : errno;
		free(vec);
		return e;
	}
	if (g_arena < 0) {
		g_arena = memfd_create("kvmfs-guest-ram", MFD_CLOEXEC);
		if (g_arena < 0) {
			int e = errno;
			free(vec);
			return e;
		}
	}
	uint64_t off = g_arena_size;
	if (ftruncate(g_arena, (off_t)(off + size)) < 0) {
		int e = errno;
		free(vec);
		return e;
	}
	void *tmp = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, g_arena, (off_t)off);
	if (tmp == MAP_FAILED) {
		int e = errno;
		ftruncate(g_arena, (off_t)off);
		free(vec);
		return e;
	}
	size_t copied = 0;
	for (size_t i = 0; i < pages; i++)
		if (vec[i] & 1) {
			memcpy((char *)tmp + i * ps, (char *)addr + i * ps, ps);
			copied++;
		}
	free(vec);
	void *at = mmap((void *)addr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, g_arena, (off_t)off);
	int e = at == MAP_FAILED ? errno : 0;
	sys_munmap(tmp, size);
	if (e) {
		ftruncate(g_arena, (off_t)off);
		return e;
	}
	g_arena_size = off + size;
	debug("moved %#lx+%#zx into the arena at %#llx (%zu resident pages copied)", (unsigned long)addr, size,
	      (unsigned long long)off, copied);
	*arena_off = off;
	return 0;
}

/* The fd to send is the arena itself: SCM_RIGHTS gives the daemon its own reference, which it
 * closes once it has mapped the range, so neither side holds an fd per slot. */
static int share_memory(uint64_t addr, uint64_t size, int *fd, uint64_t *offset)
{
	size_t ps = (size_t)page_size();
	if (size == 0 || (addr & (ps - 1)) || (size & (ps - 1)) || addr + size < addr)
		return EINVAL;
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < g_nmoved; i++) {
		struct moved_range *m = &g_moved[i];
		if (addr >= m->start && addr + size <= m->start + m->size) {
			*fd = g_arena;
			*offset = m->arena_off + (addr - m->start);
			pthread_mutex_unlock(&g_lock);
			return 0;
		}
		if (addr < m->start + m->size && m->start < addr + size) {
			/* Straddles a range moved earlier: moving again would lose the daemon's view of it. */
			pthread_mutex_unlock(&g_lock);
			debug("share %#llx+%#llx overlaps a moved range", (unsigned long long)addr, (unsigned long long)size);
			return EINVAL;
		}
	}
	uint64_t off = 0;
	int e = 0;
	struct moved_range *t = realloc(g_moved, (size_t)(g_nmoved + 1) * sizeof *t);
	if (!t)
		e = ENOMEM;
	else {
		g_moved = t;
		e = move_to_arena((uintptr_t)addr, (size_t)size, &off);
	}
	if (!e) {
		g_moved[g_nmoved++] = (struct moved_range){ (uintptr_t)addr, (size_t)size, off };
		*fd = g_arena;
		*offset = off;
	}
	pthread_mutex_unlock(&g_lock);
	return e;
}

/* The VMM unmapped [addr, addr+len): that guest RAM is gone. Its arena pages are freed (a hole
 * punched, so a VMM that maps and frees guest RAM again and again does not grow), and the range
 * is no longer "moved": memory the VMM maps there later is new memory, to be moved and shared
 * afresh, not answered with the old arena pages (the daemon would see stale bytes). */
static void forget_moved(uintptr_t addr, size_t len)
{
	uintptr_t end = addr + len;
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < g_nmoved;) {
		struct moved_range m = g_moved[i];
		uintptr_t mend = m.start + m.size;
		if (end <= m.start || mend <= addr) {
			i++;
			continue;
		}
		uintptr_t lo = addr > m.start ? addr : m.start, hi = end < mend ? end : mend;
		if (fallocate(g_arena, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(m.arena_off + (lo - m.start)),
			      (off_t)(hi - lo)) < 0)
			debug("punching %#lx+%#lx out of the arena failed: %s", (unsigned long)lo, (unsigned long)(hi - lo),
			      strerror(errno));
		/* Drop the entry; what is left of it on either side stays moved. */
		g_moved[i] = g_moved[--g_nmoved];
		struct moved_range left = { m.start, lo - m.start, m.arena_off };
		struct moved_range right = { hi, mend - hi, m.arena_off + (hi - m.start) };
		struct moved_range *parts[2] = { left.size ? &left : NULL, right.size ? &right : NULL };
		for (int k = 0; k < 2; k++) {
			if (!parts[k])
				continue;
			struct moved_range *t = realloc(g_moved, (size_t)(g_nmoved + 1) * sizeof *t);
			if (!t)
				break; /* forgetting is safe: the part is moved again if it is ever asked for */
			g_moved = t;
			g_moved[g_nmoved++] = *parts[k];
		}
	}
	pthread_mutex_unlock(&g_lock);
}

static int reply_status(int sock, uint8_t *tx, int32_t error, uint64_t value, int fd)
{
	struct kvmfs_user_status *r = (void *)tx;
	memset(r, 0, sizeof *r);
	set_header(r, KVMFS_MSG_USER_STATUS, 0, sizeof *r);
	r->error = error;
	r->value = value;
	return send_frame(sock, r, sizeof *r, fd);
}

/* Answers one callback frame. Returns 0, or -1 when the connection is unusable. */
static int serve_callback(int sock, struct tstate *ts, const uint8_t *frame, size_t len)
{
	const struct kvmfs_hdr *h = (const void *)frame;
	switch (h->type) {
	case KVMFS_MSG_COPY_FROM_USER: {
		const struct kvmfs_copy_from_user *c = (const void *)frame;
		struct kvmfs_user_data *r = (void *)ts->tx;
		if (len < sizeof *c)
			return -1;
		memset(r, 0, sizeof *r);
		uint32_t n = 0;
		if (c->len > KVMFS_WIRE_MAX_DATA)
			r->error = EINVAL;
		else if (!range_mapped(c->addr, c->len))
			r->error = EFAULT;
		else {
			n = (uint32_t)c->len;
			memcpy(r->data, (const void *)(uintptr_t)c->addr, n);
		}
		r->len = n;
		set_header(r, KVMFS_MSG_USER_DATA, 0, (uint32_t)(sizeof *r + n));
		return send_frame(sock, r, sizeof *r + n, -1);
	}
	case KVMFS_MSG_COPY_TO_USER: {
		const struct kvmfs_copy_to_user *c = (const void *)frame;
		if (len < sizeof *c)
			return -1;
		int32_t err = 0;
		if (c->len != len - sizeof *c)
			err = EINVAL;
		else if (!range_mapped(c->addr, c->len))
			err = EFAULT;
		else
			memcpy((void *)(uintptr_t)c->addr, c->data, c->len);
		return reply_status(sock, ts->tx, err, 0, -1);
	}
	case KVMFS_MSG_GET_FILE: {
		const struct kvmfs_get_file *g = (const void *)frame;
		if (len < sizeof *g)
			return -1;
		int ok = g->fd >= 0 && real_fcntl(g->fd, F_GETFD) >= 0;
		return reply_status(sock, ts->tx, ok ? 0 : EBADF, 0, ok ? g->fd : -1);
	}
	case KVMFS_MSG_SHARE_MEMORY: {
		const struct kvmfs_share_memory *s = (const void *)frame;
		if (len < sizeof *s)
			return -1;
		int fd = -1;
		uint64_t off = 0;
		int err = share_memory(s->addr, s->size, &fd, &off);
		return reply_status(sock, ts->tx, err, off, err ? -1 : fd);
	}
	default:
		return -1;
	}
}

/* ---- the ioctl round trip ---------------------------------------------- */

/* Waits for the next frame. Inside KVM_RUN it waits with the vCPU's signal mask, like KVM:
 * a signal delivered to the thread then makes the daemon's KVM_RUN return -EINTR. */
static int deliverable_pending(const sigset_t *run_mask)
{
	sigset_t pending;
	if (sigpending(&pending) < 0)
		return 0;
	for (int sig = 1; sig < 65; sig++)
		if (sigismember(&pending, sig) == 1 && sigismember(run_mask, sig) == 0)
			return 1;
	return 0;
}

static ssize_t wait_frame(int sock, struct tstate *ts, int *fd)
{
	if (ts->in_run) {
		for (;;) {
			/* A signal that came while every signal was blocked (between starting KVM_RUN and
			 * this wait) is pending now. The kernel's ppoll would deliver it; qemu-user has
			 * already taken it from the host and its ppoll does not see it. Either way it
			 * ends this KVM_RUN. */
			if (!__atomic_load_n(&ts->kicked, __ATOMIC_ACQUIRE) && deliverable_pending(&ts->run_mask) && claim_kick(ts))
				send_kick(ts->run_handle);
			struct pollfd p = { .fd = sock, .events = POLLIN };
			int r = ppoll(&p, 1, NULL, &ts->run_mask);
			if (r > 0)
				break;
			if (r < 0 && errno == EINTR) {
				if (claim_kick(ts))
					send_kick(ts->run_handle);
				continue;
			}
			if (r < 0)
				return -1;
		}
	}
	return recv_frame(sock, ts->rx, sizeof ts->rx, fd);
}

static int placeholder_fd(uint32_t cmd)
{
	const char *name = (cmd & 0xff) == 0x01 ? "kvm-vm" : (cmd & 0xff) == 0xe0 ? "kvm-device" : "kvm-object";
	return memfd_create(name, MFD_CLOEXEC);
}

static void forget_object(int sock, struct tstate *ts, uint32_t handle)
{
	struct kvmfs_close *c = (void *)ts->tx;
	memset(c, 0, sizeof *c);
	set_header(c, KVMFS_MSG_CLOSE, 0, sizeof *c);
	c->handle = handle;
	send_frame(sock, c, sizeof *c, -1);
}

static long kvm_ioctl(struct kobj *o, unsigned long request, void *arg)
{
	uint32_t cmd = (uint32_t)request;
	uint32_t size = _IOC_SIZE(cmd);
	uint32_t dir = _IOC_DIR(cmd);
	struct tstate *ts = thread_state();
	if (!ts) {
		errno = ENOMEM;
		return -1;
	}
	if (ts->busy) {
		/* A signal handler interrupted our own round trip and issues a KVM ioctl. */
		errno = EBUSY;
		return -1;
	}
	int sock = thread_conn(ts);
	if (sock < 0) {
		errno = EIO;
		return -1;
	}

	if ((dir & _IOC_WRITE) && size && !range_mapped((uintptr_t)arg, size)) {
		errno = EFAULT;
		return -1;
	}
	struct kvmfs_ioctl *q = (void *)ts->tx;
	memset(q, 0, sizeof *q);
	q->handle = o->handle;
	q->cmd = cmd;
	q->arg = (uint64_t)(uintptr_t)arg;
	q->data_len = (dir & _IOC_WRITE) ? size : 0;
	if (q->data_len)
		memcpy(q->data, arg, size);
	set_header(q, KVMFS_MSG_IOCTL, 0, (uint32_t)(sizeof *q + q->data_len));

	ts->busy = 1;
	int is_run = cmd == CMD_KVM_RUN;
	sigset_t saved_mask;
	if (is_run) {
		/* Signals wait (pending) until ppoll opens the run mask: one that arrives before the wait
		 * starts must still end this KVM_RUN, as it would in the kernel, not be handled unseen. */
		sigset_t all;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &saved_mask);
		ts->run_handle = o->handle;
		__atomic_store_n(&ts->kicked, 0, __ATOMIC_RELEASE);
		ts->run_mask = o->has_sigmask ? o->sigmask : saved_mask;
		__atomic_store_n(&ts->in_run, 1, __ATOMIC_RELEASE);
	}
	long ret = -1;
	int err = EIO;
	if (send_frame(sock, q, sizeof *q + q->data_len, -1) < 0)
		goto broken;
	for (;;) {
		int fd;
		ssize_t n = wait_frame(sock, ts, &fd);
		if (n <= 0)
			goto broken;
		const struct kvmfs_hdr *h = (const void *)ts->rx;
		if (h->type == KVMFS_MSG_IOCTL_REPLY && (size_t)n >= sizeof(struct kvmfs_ioctl_reply)) {
			const struct kvmfs_ioctl_reply *r = (const void *)ts->rx;
			__atomic_store_n(&ts->in_run, 0, __ATOMIC_RELEASE);
			uint32_t dlen = r->data_len;
			if (dlen > n - sizeof *r)
				dlen = (uint32_t)(n - sizeof *r);
			if (dlen > size)
				dlen = size;
			uint8_t out[1 << 14];
			memcpy(out, r->data, dlen);
			ret = r->result;
			if (ret >= 0 && (h->flags & KVMFS_REPLY_NEW_OBJECT)) {
				/* The new object's fd: the vCPU's kvm_run memfd from the daemon, else ours. */
				int nfd = fd >= 0 ? fd : placeholder_fd(cmd);
				fd = -1;
				struct kobj *no = nfd >= 0 ? calloc(1, sizeof *no) : NULL;
				int e = nfd < 0 ? errno : no ? 0 : ENOMEM;
				if (no) {
					no->handle = r->new_handle;
					pthread_mutex_lock(&g_lock);
					e = -install_locked(nfd, no);
					pthread_mutex_unlock(&g_lock);
				}
				if (!e && r->new_fd_offset >= 0 && (uint32_t)r->new_fd_offset + 4 > dlen)
					e = EPROTO;
				/* Tell the daemon which fd the VMM got (the trace shows it), or why there is none. */
				reply_status(sock, ts->tx, e, (uint64_t)(nfd >= 0 ? nfd : 0), -1);
				if (e) {
					if (no && no->refs) {
						pthread_mutex_lock(&g_lock);
						uninstall_locked(nfd);
						pthread_mutex_unlock(&g_lock);
					}
					free(no);
					if (nfd >= 0)
						sys_close(nfd);
					err = e;
					ret = -1;
					break;
				}
				if (r->new_fd_offset < 0)
					ret = nfd;
				else
					memcpy(out + r->new_fd_offset, &nfd, sizeof nfd);
			}
			if (fd >= 0)
				sys_close(fd);
			if (ret < 0) {
				err = (int)-ret;
				ret = -1;
				break;
			}
			if ((dir & _IOC_READ) && dlen) {
				if (!range_mapped((uintptr_t)arg, dlen)) {
					err = EFAULT;
					ret = -1;
					break;
				}
				memcpy(arg, out, dlen);
			}
			break;
		}
		if (h->type == KVMFS_MSG_ERROR_REPLY && (size_t)n >= sizeof(struct kvmfs_error_reply)) {
			if (fd >= 0)
				sys_close(fd);
			err = ((const struct kvmfs_error_reply *)ts->rx)->error;
			ret = -1;
			break;
		}
		if (fd >= 0)
			sys_close(fd);
		if (serve_callback(sock, ts, ts->rx, (size_t)n) < 0)
			goto broken;
	}
	__atomic_store_n(&ts->in_run, 0, __ATOMIC_RELEASE);
	if (is_run)
		pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
	ts->busy = 0;
	if (ret < 0)
		errno = err;
	return ret;

broken:
	/* The daemon went away or spoke nonsense: this connection is done. */
	__atomic_store_n(&ts->in_run, 0, __ATOMIC_RELEASE);
	if (is_run)
		pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
	ts->busy = 0;
	sys_close(ts->conn);
	ts->conn = -1;
	debug("connection lost during ioctl %#x", cmd);
	errno = EIO;
	return -1;
}

static void after_ioctl(struct kobj *o, int fd, uint32_t cmd, void *arg, long ret)
{
	(void)fd;
	if (ret < 0 || cmd != CMD_KVM_SET_SIGNAL_MASK)
		return;
	/* KVM accepted the mask: KVM_RUN will wait with it. NULL clears it. */
	pthread_mutex_lock(&g_lock);
	if (!arg) {
		o->has_sigmask = 0;
	} else {
		uint32_t len;
		memcpy(&len, arg, sizeof len);
		sigemptyset(&o->sigmask);
		memcpy(&o->sigmask, (uint8_t *)arg + 4, len < sizeof o->sigmask ? len : sizeof o->sigmask);
		o->has_sigmask = 1;
	}
	pthread_mutex_unlock(&g_lock);
}

/* ---- opening the device -------------------------------------------------- */

static int is_kvm_path(const char *path)
{
	return path && strcmp(path, g_device_path) == 0;
}

/* openat: only an absolute path can name the device whatever dirfd is. */
static int is_abs_kvm_path(const char *path)
{
	return path && path[0] == '/' && is_kvm_path(path);
}

static int kvm_open(int flags)
{
	struct tstate *ts = thread_state();
	if (!ts) {
		errno = ENOMEM;
		return -1;
	}
	int sock = thread_conn(ts);
	if (sock < 0) {
		errno = ENOENT;   /* no daemon: as if there were no /dev/kvm */
		return -1;
	}
	struct kvmfs_open_device *q = (void *)ts->tx;
	memset(q, 0, sizeof *q);
	set_header(q, KVMFS_MSG_OPEN_DEVICE, 0, sizeof *q);
	int afd;
	ts->busy = 1;
	ssize_t n = send_frame(sock, q, sizeof *q, -1) < 0 ? -1 : recv_frame(sock, ts->rx, sizeof ts->rx, &afd);
	ts->busy = 0;
	if (n > 0 && afd >= 0)
		sys_close(afd);
	const struct kvmfs_open_reply *r = (const void *)ts->rx;
	if (n != (ssize_t)sizeof *r || r->hdr.type != KVMFS_MSG_OPEN_REPLY) {
		errno = EIO;
		return -1;
	}
	if (r->error) {
		errno = r->error;
		return -1;
	}
	int fd = memfd_create("kvm", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	struct kobj *o = fd >= 0 ? calloc(1, sizeof *o) : NULL;
	if (!o) {
		int e = fd < 0 ? errno : ENOMEM;
		if (fd >= 0)
			sys_close(fd);
		forget_object(sock, ts, r->handle);
		errno = e;
		return -1;
	}
	o->handle = r->handle;
	pthread_mutex_lock(&g_lock);
	int e = install_locked(fd, o);
	pthread_mutex_unlock(&g_lock);
	if (e) {
		free(o);
		sys_close(fd);
		forget_object(sock, ts, r->handle);
		errno = -e;
		return -1;
	}
	debug("open %s -> fd %d (handle %u)", g_device_path, fd, o->handle);
	return fd;
}

/* ---- fd bookkeeping on close and dup -------------------------------------- */

static void drop_fd(int fd)
{
	if (!__atomic_load_n(&g_any, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&g_lock);
	struct kobj *o = uninstall_locked(fd);
	pthread_mutex_unlock(&g_lock);
	if (!o)
		return;
	if (!o->foreign && g_session_pid == getpid()) {
		struct tstate *ts = thread_state();
		int sock = ts && !ts->busy ? thread_conn(ts) : -1;
		if (sock >= 0) {
			forget_object(sock, ts, o->handle);
		} else {
			/* Inside a signal handler that interrupted us: the control connection carries it. */
			struct kvmfs_close c;
			memset(&c, 0, sizeof c);
			set_header(&c, KVMFS_MSG_CLOSE, 0, sizeof c);
			c.handle = o->handle;
			pthread_mutex_lock(&g_ctl_lock);
			if (g_ctl >= 0)
				send_frame(g_ctl, &c, sizeof c, -1);
			pthread_mutex_unlock(&g_ctl_lock);
		}
	}
	free(o);
}

static void dup_fd(int oldfd, int newfd)
{
	if (newfd < 0 || !__atomic_load_n(&g_any, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&g_lock);
	struct kobj *o = lookup_locked(oldfd);
	if (o)
		install_locked(newfd, o);
	pthread_mutex_unlock(&g_lock);
}

/* ---- fork: the child keeps the fds but not the VMs, as with KVM (ioctls get EIO) ---- */

static void atfork_prepare(void)
{
	pthread_mutex_lock(&g_ctl_lock);
	pthread_mutex_lock(&g_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&g_lock);
	pthread_mutex_unlock(&g_ctl_lock);
}

static void atfork_child(void)
{
	for (int i = 0; i < g_nfds; i++)
		if (g_fds[i])
			g_fds[i]->foreign = 1;
	/* The child shares the parent's arena pages only until it maps its own guest RAM. */
	g_nmoved = 0;
	if (g_arena >= 0)
		sys_close(g_arena);
	g_arena = -1;
	g_arena_size = 0;
	if (g_ctl >= 0)
		sys_close(g_ctl);
	g_ctl = -1;
	g_session_pid = 0;
	pthread_mutex_unlock(&g_lock);
	pthread_mutex_unlock(&g_ctl_lock);
}

__attribute__((constructor)) static void shim_init(void)
{
	resolve_real();
	debug_enabled = getenv("KVMFS_SHIM_DEBUG") != NULL;
	const char *dev = getenv("KVMFS_DEVICE");
	snprintf(g_device_path, sizeof g_device_path, "%s", dev && *dev ? dev : "/dev/kvm");
	const char *sock = getenv("KVMFS_SOCKET");
	snprintf(g_socket_path, sizeof g_socket_path, "%s", sock && *sock ? sock : KVMFS_WIRE_DEFAULT_SOCKET);
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ---- the interposed entry points ------------------------------------------- */

static int take_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	int mode = take_mode(flags, ap);
	va_end(ap);
	resolve_real();
	if (is_kvm_path(path))
		return kvm_open(flags);
	return real_open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	int mode = take_mode(flags, ap);
	va_end(ap);
	resolve_real();
	if (is_kvm_path(path))
		return kvm_open(flags);
	return (real_open64 ? real_open64 : real_open)(path, flags, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	int mode = take_mode(flags, ap);
	va_end(ap);
	resolve_real();
	if (is_abs_kvm_path(path))
		return kvm_open(flags);
	return real_openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	int mode = take_mode(flags, ap);
	va_end(ap);
	resolve_real();
	if (is_abs_kvm_path(path))
		return kvm_open(flags);
	return (real_openat64 ? real_openat64 : real_openat)(dirfd, path, flags, mode);
}

/* The _FORTIFY_SOURCE variants. */
EXPORT int __open_2(const char *path, int flags)
{
	resolve_real();
	if (is_kvm_path(path))
		return kvm_open(flags);
	return real___open_2 ? real___open_2(path, flags) : real_open(path, flags, 0);
}

EXPORT int __open64_2(const char *path, int flags)
{
	resolve_real();
	if (is_kvm_path(path))
		return kvm_open(flags);
	return real___open64_2 ? real___open64_2(path, flags) : real_open(path, flags, 0);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	resolve_real();
	if (is_abs_kvm_path(path))
		return kvm_open(flags);
	return real___openat_2 ? real___openat_2(dirfd, path, flags) : real_openat(dirfd, path, flags, 0);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	resolve_real();
	if (is_abs_kvm_path(path))
		return kvm_open(flags);
	return real___openat64_2 ? real___openat64_2(dirfd, path, flags) : real_openat(dirfd, path, flags, 0);
}

/* A KVM command on an fd that is not one of ours: what the kernel says for it. qemu-user answers
 * any ioctl it does not know with ENOSYS before the kernel could say EBADF or ENOTTY. */
static int foreign_kvm_ioctl(int fd, unsigned long request, void *arg)
{
	if (real_fcntl(fd, F_GETFD) < 0) {
		errno = EBADF;
		return -1;
	}
	int r = real_ioctl(fd, request, arg);
	if (r < 0 && errno == ENOSYS)
		errno = ENOTTY;
	return r;
}

EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	resolve_real();
	if (_IOC_TYPE(request) != KVMIO_TYPE)
		return real_ioctl(fd, request, arg);
	if (!__atomic_load_n(&g_any, __ATOMIC_ACQUIRE))
		return foreign_kvm_ioctl(fd, request, arg);
	pthread_mutex_lock(&g_lock);
	struct kobj *o = lookup_locked(fd);
	pthread_mutex_unlock(&g_lock);
	if (!o)
		return foreign_kvm_ioctl(fd, request, arg);
	if (o->foreign) {
		errno = EIO;
		return -1;
	}
	long ret = kvm_ioctl(o, request, arg);
	int e = errno;
	after_ioctl(o, fd, (uint32_t)request, arg, ret);
	errno = e;
	return (int)ret;
}

EXPORT int close(int fd)
{
	resolve_real();
	drop_fd(fd);
	return real_close(fd);
}

EXPORT int dup(int oldfd)
{
	resolve_real();
	int r = real_dup(oldfd);
	dup_fd(oldfd, r);
	return r;
}

EXPORT int dup2(int oldfd, int newfd)
{
	resolve_real();
	if (oldfd == newfd)
		return real_dup2(oldfd, newfd);
	int r = real_dup2(oldfd, newfd);
	if (r >= 0) {
		drop_fd(newfd);   /* newfd was closed by dup2 */
		dup_fd(oldfd, r);
	}
	return r;
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	resolve_real();
	int r = real_dup3(oldfd, newfd, flags);
	if (r >= 0) {
		drop_fd(newfd);
		dup_fd(oldfd, r);
	}
	return r;
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, va_list ap)
{
	void *arg = va_arg(ap, void *);
	int r = real(fd, cmd, arg);
	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		dup_fd(fd, r);
	return r;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	resolve_real();
	va_list ap;
	va_start(ap, cmd);
	int r = fcntl_common(real_fcntl, fd, cmd, ap);
	va_end(ap);
	return r;
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	resolve_real();
	va_list ap;
	va_start(ap, cmd);
	int r = fcntl_common(real_fcntl64 ? real_fcntl64 : real_fcntl, fd, cmd, ap);
	va_end(ap);
	return r;
}

/* A signal for a thread blocked in KVM_RUN (kvmtool's SIGRTMIN kicks, QEMU's SIG_IPI): real KVM
 * sees it pending and returns -EINTR. The target's own wait (ppoll with the run mask) also sees
 * it; whichever comes first sends the one KICK. */
/* munmap: guest RAM the VMM gives up leaves the arena (see forget_moved). */
EXPORT int munmap(void *addr, size_t len)
{
	resolve_real();
	int r = real_munmap ? real_munmap(addr, len) : sys_munmap(addr, len);
	if (r == 0 && len)
		forget_moved((uintptr_t)addr, len);
	return r;
}

EXPORT int pthread_kill(pthread_t thread, int sig)
{
	resolve_real();
	int r = real_pthread_kill(thread, sig);
	if (r != 0 || sig <= 0 || !__atomic_load_n(&g_any, __ATOMIC_ACQUIRE))
		return r;
	int hit = 0;
	uint32_t handle = 0;
	pthread_mutex_lock(&g_lock);   /* keeps the target's state alive while we look */
	for (int i = 0; i < MAX_THREADS; i++) {
		struct tstate *ts = g_threads[i];
		if (ts && pthread_equal(ts->self, thread)) {
			if (__atomic_load_n(&ts->in_run, __ATOMIC_ACQUIRE) && !sigismember(&ts->run_mask, sig) && claim_kick(ts)) {
				hit = 1;
				handle = ts->run_handle;
			}
			break;
		}
	}
	pthread_mutex_unlock(&g_lock);
	if (hit)
		send_kick(handle);
	return r;
}
