/* Arm semihosting: the debugger (or qemu -semihosting) does the I/O for the target. */
#ifndef TINYLOOP_EXAMPLE_SEMIHOSTING_H
#define TINYLOOP_EXAMPLE_SEMIHOSTING_H

void semihosting_write(const char* text);
/* Ends the program: 0 is success; anything else makes qemu exit with status 1. */
__attribute__((noreturn)) void semihosting_exit(int status);

#endif
