/* File system calls on host files: create, write, lseek, pread, fstat, dup, pipe, rename, unlink,
   directory listing and a private file mapping. argv[1] is a scratch directory that must not exist. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char paths[4][4096];
static int next;
/* dir/name in one of four rotating buffers, so two results can be used in one call. */
static const char *in(const char *dir, const char *name) {
    char *p = paths[next++ & 3];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *d = argv[1];
    if (mkdir(d, 0755) != 0) { perror("mkdir"); return 3; }
    int fd = open(in(d, "a.txt"), O_CREAT | O_EXCL | O_RDWR, 0644);
    printf("open fd %d\n", fd);
    for (int i = 0; i < 1000; i++) dprintf(fd, "line %04d %s\n", i, i % 3 ? "abc" : "xyz");
    struct stat st; fstat(fd, &st);
    printf("size %lld regular %d mode %o\n", (long long)st.st_size, S_ISREG(st.st_mode), st.st_mode & 0777);
    printf("lseek %lld\n", (long long)lseek(fd, 100, SEEK_SET));
    char buf[64] = {0};
    printf("read %zd [%.13s]\n", read(fd, buf, 13), buf);
    printf("pread %zd [%.13s]\n", pread(fd, buf, 13, 15 * 50), buf);
    int d2 = dup(fd);
    printf("dup %d cur %lld\n", d2, (long long)lseek(d2, 0, SEEK_CUR));
    char *map = mmap(0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("mmap ok %d [%.14s]\n", map != MAP_FAILED, map + 14 * 999);
    munmap(map, st.st_size);
    close(fd); close(d2);
    printf("bad close %d errno %d\n", close(fd), errno);
    printf("rename %d\n", rename(in(d, "a.txt"), in(d, "b.txt")));
    FILE *f = fopen(in(d, "b.txt"), "r");
    if (!f) { perror("fopen"); return 4; }
    long sum = 0; int c; while ((c = fgetc(f)) != EOF) sum += c;
    fclose(f);
    printf("sum %ld\n", sum);
    printf("missing %d errno %d\n", open(in(d, "nope"), O_RDONLY), errno);
    printf("access %d %d\n", access(in(d, "b.txt"), R_OK), access(in(d, "nope"), F_OK));
    int p[2]; pipe(p);
    write(p[1], "through the pipe", 16);
    close(p[1]);
    printf("pipe fds %d %d read %zd\n", p[0], p[1], read(p[0], buf, sizeof buf));
    close(p[0]);
    DIR *dir = opendir(d); int entries = 0; struct dirent *e;
    while ((e = readdir(dir))) if (e->d_name[0] != '.') { entries++; printf("entry %s\n", e->d_name); }
    closedir(dir);
    printf("unlink %d rmdir %d\n", unlink(in(d, "b.txt")), rmdir(d));
    char cwd[4096];
    printf("getcwd ok %d\n", getcwd(cwd, sizeof cwd) != 0 && cwd[0] == '/');
    printf("isatty %d errno %d\n", isatty(1), errno);
    return entries;
}
