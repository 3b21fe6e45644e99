/* For the wine smoke test: a Windows process that imports the DLLs botmox-agent.exe imports,
   then waits. Under wine its memory is the floor of such a process (wine's own runtime), which
   the test subtracts from the agent's to estimate what the agent itself uses. */
#include <winsock2.h>
#include <windows.h>
#include <shellapi.h>
#include <commctrl.h>
#include <wincrypt.h>
#include <bcrypt.h>
#include <oleauto.h>
int main(void) {
  /* One call into each DLL, so that every import stays and is loaded at start. */
  void *volatile keep[] = {(void *)GetDesktopWindow, (void *)GetStockObject, (void *)InitCommonControls,
                           (void *)Shell_NotifyIconW, (void *)WSAStartup, (void *)BCryptGenRandom,
                           (void *)CertOpenStore, (void *)SysAllocString, (void *)RegOpenKeyExW};
  (void)keep;
  Sleep(INFINITE);
  return 0;
}
