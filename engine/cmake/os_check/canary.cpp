// Self-test of the OS-header check: compiled with the check's flags, this file must fail on both
// includes below (tests "engine_os_check_catches"). Never part of a build.
#include <thread>
#include <unistd.h>

int main() { return 0; }
