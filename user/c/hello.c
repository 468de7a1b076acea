/* hello: the first user program. Prints a greeting, then each argument. */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("hello from kestrel\n");
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    return 0;
}
