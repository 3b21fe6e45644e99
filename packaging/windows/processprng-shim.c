/*
 * bcryptprimitives.dll for Wine builds that lack it (Debian's wine 8): Rust's standard library
 * on Windows imports ProcessPrng from bcryptprimitives.dll for its random numbers (HashMap
 * keys). This shim exports ProcessPrng on top of RtlGenRandom (advapi32!SystemFunction036),
 * which Wine has. It is placed beside the .exe for the smoke test only; it is never shipped:
 * real Windows (10 and later) has the real DLL.
 *
 *   x86_64-w64-mingw32-gcc -O2 -shared -s -o bcryptprimitives.dll processprng-shim.c \
 *       processprng-shim.def -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
