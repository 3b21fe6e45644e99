; Installer of the Bot-Mox agent for Windows (NSIS 3, built on Linux by build.sh):
;   makensis -DVERSION=0.1.0 -DEXE=/path/botmox-agent.exe -DOUTFILE=/path/Setup.exe \
;            -DICON=/path/botmox-agent.ico installer.nsi
; A per-user install (no administrator rights): %LOCALAPPDATA%\Programs\Bot-Mox Agent, a Start
; menu entry, start at login (HKCU Run), the botmox:// link scheme (HKCU\Software\Classes) and
; an uninstaller listed in Apps & features. The configuration in %APPDATA%\botmox-agent is
; left in place by the uninstaller (it holds the pairing); delete it by hand to forget it.
Unicode true
SetCompressor /SOLID lzma

!ifndef VERSION
  !error "pass -DVERSION=x.y.z"
!endif
!ifndef EXE
  !error "pass -DEXE=path/to/botmox-agent.exe"
!endif
!ifndef OUTFILE
  !define OUTFILE "BotMox-Agent-Setup-${VERSION}.exe"
!endif

!define PRODUCT "Bot-Mox Agent"
!define APPID "com.botmox.agent"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APPID}"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
RequestExecutionLevel user
!ifdef ICON
  Icon "${ICON}"
  UninstallIcon "${ICON}"
!endif
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "FileDescription" "${PRODUCT} installer"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "CompanyName" "Bot-Mox"
VIAddVersionKey "LegalCopyright" "Bot-Mox"

Page directory
Page components
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

Section "!${PRODUCT}" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; Stop a running tray agent so its .exe can be replaced (an upgrade).
  nsExec::Exec '"$SYSDIR\taskkill.exe" /IM botmox-agent.exe /F'
  Pop $0
  File "/oname=botmox-agent.exe" "${EXE}"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; The botmox:// scheme: a click on a pairing link in the web UI pairs this agent.
  WriteRegStr HKCU "Software\Classes\botmox" "" "URL:Bot-Mox pairing link"
  WriteRegStr HKCU "Software\Classes\botmox" "URL Protocol" ""
  WriteRegStr HKCU "Software\Classes\botmox\DefaultIcon" "" '"$INSTDIR\botmox-agent.exe",0'
  WriteRegStr HKCU "Software\Classes\botmox\shell\open\command" "" '"$INSTDIR\botmox-agent.exe" open-url "%1"'

  ; Apps & features.
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "Bot-Mox"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" '"$INSTDIR\botmox-agent.exe",0'
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
SectionEnd

Section "Start menu entry" SecStartMenu
  CreateDirectory "$SMPROGRAMS\${PRODUCT}"
  ; Minimized: the console Windows opens for the (console-subsystem) exe stays in the taskbar
  ; for the moment before the tray lets go of it (FreeConsole).
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\${PRODUCT}.lnk" "$INSTDIR\botmox-agent.exe" "tray" "$INSTDIR\botmox-agent.exe" 0 SW_SHOWMINIMIZED
  CreateShortcut "$SMPROGRAMS\${PRODUCT}\Uninstall ${PRODUCT}.lnk" "$INSTDIR\uninstall.exe"
SectionEnd

Section "Start at login" SecAutostart
  ; The same value the tray's "Start at login" toggle writes and removes.
  WriteRegStr HKCU "${RUN_KEY}" "BotMoxAgent" '"$INSTDIR\botmox-agent.exe" tray'
SectionEnd

; Optional, off by default: the agent as a Windows service (runs at boot without a login). The
; per-user installer is not elevated, so this asks for administrator rights once; `service
; install` copies the program to Program Files (a LocalSystem service must not run a file in the
; user's folder). It takes over the tray's pairing when there is one, and starts; otherwise
; pair it with `botmox-agent service install --pair CODE` (docs/operations.md).
Section /o "Windows service (runs at boot; asks for administrator rights)" SecService
  ExecShellWait "runas" "$INSTDIR\botmox-agent.exe" "service install" SW_HIDE
SectionEnd

Section "-Launch"
  IfSilent done
  Exec '"$INSTDIR\botmox-agent.exe" tray'
  done:
SectionEnd

Section "Uninstall"
  ; Remove the service only when one is installed (sc.exe needs no elevation to ask).
  nsExec::Exec '"$SYSDIR\sc.exe" query botmox-agent'
  Pop $0
  StrCmp $0 "0" 0 +2
    ExecShellWait "runas" "$INSTDIR\botmox-agent.exe" "service uninstall" SW_HIDE
  nsExec::Exec '"$SYSDIR\taskkill.exe" /IM botmox-agent.exe /F'
  Pop $0
  DeleteRegValue HKCU "${RUN_KEY}" "BotMoxAgent"
  DeleteRegKey HKCU "Software\Classes\botmox"
  DeleteRegKey HKCU "${UNINST_KEY}"
  Delete "$SMPROGRAMS\${PRODUCT}\${PRODUCT}.lnk"
  Delete "$SMPROGRAMS\${PRODUCT}\Uninstall ${PRODUCT}.lnk"
  RMDir "$SMPROGRAMS\${PRODUCT}"
  Delete "$INSTDIR\botmox-agent.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
SectionEnd
