/*
 * cat [FILE...]: copies each FILE to stdout byte for byte, with read and
 * write (no stdio buffers); no FILE, or "-", copies stdin until end of file.
 * An error prints "cat: FILE: <strerror>" on stderr; the exit status is 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buffer[4096];

/* Every byte of fd to stdout: 0 on success, else an errno for name. */
static int copy(int fd)
{
    for (;;) {
        ssize_t got = read(fd, buffer, sizeof buffer);
        if (got == 0)
            return 0;
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        for (ssize_t done = 0; done < got;) {
            ssize_t put = write(1, buffer + done, (size_t)(got - done));
            if (put < 0) {
                if (errno == EINTR)
                    continue;
                return -errno; /* negative: stdout's error, not the file's */
            }
            done += put;
        }
    }
}

static int cat(const char *name)
{
    int stdin_ = !strcmp(name, "-");
    int fd = stdin_ ? 0 : open(name, O_RDONLY);
    int error;

    if (fd < 0) {
        fprintf(stderr, "cat: %s: %s\n", name, strerror(errno));
        return 1;
    }
    error = copy(fd);
    if (!stdin_)
        close(fd);
    if (error > 0)
        fprintf(stderr, "cat: %s: %s\n", name, strerror(error));
    else if (error < 0)
        fprintf(stderr, "cat: write error: %s\n", strerror(-error));
    return error != 0;
}

int main(int argc, char **argv)
{
    int status = 0;

    if (argc < 2)
        return cat("-");
    for (int i = 1; i < argc; i++)
        status |= cat(argv[i]);
    return status;
}
