#Requires -Version 5.1
<#
.SYNOPSIS
Installs Mantra on Windows for every user: the binary, the agent scheduled
task, and optionally a policy file and the git hooks at system scope.

.DESCRIPTION
- Copies the binary to "$env:ProgramFiles\Mantra\mantra.exe" and adds that
  folder to the machine PATH.
- Registers the scheduled task "Mantra Agent" from
  windows\mantra-agent-task.xml: at every user's logon, as that user,
  least privilege, restarted on failure.
- Registers the Application event log source "mantra" (with eventcreate,
  which only writes to sources it created itself), where every compliance
  event is mirrored; creating a source needs an administrator.
- -Policy installs "$env:ProgramData\Mantra\policy.yaml" (the folder is
  created writable by Administrators and SYSTEM only). An existing different
  policy is kept unless -Force (then -Uninstall restores it).
- -Hooks runs `mantra hooks install --scope system` (core.hooksPath in Git
  for Windows' system config); a foreign core.hooksPath is kept unless -Force.
- Records what it installed in "$env:ProgramFiles\Mantra\install-manifest.txt";
  -Uninstall removes exactly that. Safe to run twice.

Exit code: 0 done, 1 refused or failed.

.EXAMPLE
powershell -ExecutionPolicy Bypass -File install.ps1 -Binary .\mantra.exe -Policy .\policy.yaml -Hooks
.EXAMPLE
powershell -ExecutionPolicy Bypass -File install.ps1 -Uninstall
#>
[CmdletBinding()]
param(
    # The mantra.exe to install (default: mantra.exe beside this script).
    [string]$Binary,
    # A policy file to install as the system policy.
    [string]$Policy,
    # Install the git hooks at system scope.
    [switch]$Hooks,
    # Do not register the agent scheduled task.
    [switch]$NoService,
    # Replace an existing different policy or a foreign core.hooksPath.
    [switch]$Force,
    # Remove what a previous run installed.
    [switch]$Uninstall,
    # Print what would be done; change nothing.
    [switch]$DryRun
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$TaskName = 'Mantra Agent'
$InstallDir = Join-Path $env:ProgramFiles 'Mantra'
$Exe = Join-Path $InstallDir 'mantra.exe'
$TaskCopy = Join-Path $InstallDir 'mantra-agent-task.xml'
$Manifest = Join-Path $InstallDir 'install-manifest.txt'
$PolicyBackup = Join-Path $InstallDir 'policy.yaml.before-mantra'
# Where mantra-policy reads the policy file on Windows (policy/src/load.rs).
$PolicyDir = Join-Path $env:ProgramData 'Mantra'
$PolicyPath = Join-Path $PolicyDir 'policy.yaml'
# The default system shim directory of `mantra hooks install` on Windows.
$HooksDir = Join-Path $PolicyDir 'git-hooks'
$TaskTemplate = Join-Path $PSScriptRoot 'windows\mantra-agent-task.xml'
$EnvKey = 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
# The Application event log source of the compliance events (core/src/os_log.rs).
$EventSource = 'mantra'
$EventSourceKey = "HKLM:\SYSTEM\CurrentControlSet\Services\EventLog\Application\$EventSource"

$script:Entries = New-Object System.Collections.Generic.List[string]
$script:Changed = $false

function Say([string]$Text) { Write-Output $Text }
function Fail([string]$Text) {
    [Console]::Error.WriteLine("install.ps1: error: $Text")
    exit 1
}

function Test-Admin {
    $id = [Security.Principal.WindowsIdentity]::GetCurrent()
    (New-Object Security.Principal.WindowsPrincipal $id).IsInRole(
        [Security.Principal.WindowsBuiltInRole]::Administrator)
}

# --- manifest: "KIND<TAB>PATH" a line -------------------------------------

function Read-Manifest {
    if (Test-Path -LiteralPath $Manifest) {
        foreach ($line in Get-Content -LiteralPath $Manifest) {
            if ($line) { $script:Entries.Add($line) }
        }
    }
}

function Test-Entry([string]$Kind, [string]$Path) {
    $script:Entries.Contains("$Kind`t$Path")
}

function Add-Entry([string]$Kind, [string]$Path) {
    if (-not (Test-Entry $Kind $Path)) { $script:Entries.Add("$Kind`t$Path") }
}

function Save-Manifest {
    if ($DryRun) { return }
    $text = ($script:Entries -join "`r`n") + "`r`n"
    if ((Test-Path -LiteralPath $Manifest) -and
        ((Get-Content -LiteralPath $Manifest -Raw) -eq $text)) { return }
    New-Directory $InstallDir
    $tmp = "$Manifest.tmp"
    [IO.File]::WriteAllText($tmp, $text)
    Move-Item -LiteralPath $tmp -Destination $Manifest -Force
}

# --- helpers -------------------------------------------------------------

function New-Directory([string]$Path, [switch]$AdminsOnly) {
    if (Test-Path -LiteralPath $Path -PathType Container) { return }
    if ($DryRun) { Say "would create $Path"; return }
    New-Item -ItemType Directory -Path $Path | Out-Null
    if ($AdminsOnly) {
        # Not inherited from ProgramData (where Users may create files):
        # Administrators and SYSTEM full control, Users read.
        & icacls.exe $Path /inheritance:r /grant:r '*S-1-5-32-544:(OI)(CI)F' '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-545:(OI)(CI)RX' | Out-Null
        if ($LASTEXITCODE -ne 0) { Fail "could not set the permissions of $Path" }
    }
    Add-Entry 'dir' $Path
    $script:Changed = $true
}

function Test-SameFile([string]$A, [string]$B) {
    (Test-Path -LiteralPath $B -PathType Leaf) -and
        ((Get-FileHash -LiteralPath $A).Hash -eq (Get-FileHash -LiteralPath $B).Hash)
}

# Copies Source to Dest through a temp file in Dest's folder and a rename.
# Returns $true when it changed something.
function Install-File([string]$Source, [string]$Dest) {
    if (Test-SameFile $Source $Dest) { Say "already installed $Dest"; return $false }
    if ($DryRun) { Say "would install $Dest"; return $true }
    $tmp = "$Dest.new"
    Copy-Item -LiteralPath $Source -Destination $tmp -Force
    try {
        Move-Item -LiteralPath $tmp -Destination $Dest -Force
    } catch {
        # A running mantra.exe cannot be replaced but can be renamed.
        $old = "$Dest.old-$([guid]::NewGuid().ToString('N'))"
        Rename-Item -LiteralPath $Dest -NewName (Split-Path $old -Leaf)
        Move-Item -LiteralPath $tmp -Destination $Dest -Force
        Remove-Item -LiteralPath $old -Force -ErrorAction SilentlyContinue
    }
    Say "installed $Dest"
    $script:Changed = $true
    $true
}

function Get-MachinePath {
    $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($EnvKey)
    try { [string]$key.GetValue('Path', '', 'DoNotExpandEnvironmentNames') } finally { $key.Close() }
}

function Set-MachinePath([string]$Value) {
    $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($EnvKey, $true)
    try { $key.SetValue('Path', $Value, [Microsoft.Win32.RegistryValueKind]::ExpandString) } finally { $key.Close() }
    # Setting a variable through .NET broadcasts WM_SETTINGCHANGE, so new
    # shells see the new PATH without a reboot.
    [Environment]::SetEnvironmentVariable('MANTRA_INSTALL_REFRESH', '1', 'Machine')
    [Environment]::SetEnvironmentVariable('MANTRA_INSTALL_REFRESH', $null, 'Machine')
}

function Test-OnPath([string]$PathValue, [string]$Dir) {
    foreach ($p in $PathValue.Split(';')) {
        if ($p.TrimEnd('\') -ieq $Dir.TrimEnd('\')) { return $true }
    }
    $false
}

function Get-SystemHooksPath {
    if (-not (Get-Command git.exe -ErrorAction SilentlyContinue)) { return $null }
    $v = & git.exe config --system --get core.hooksPath 2>$null
    if ($LASTEXITCODE -eq 0 -and $v) { return [string]$v }
    $null
}

# --- install ---------------------------------------------------------------

function Invoke-Install {
    if (-not $Binary) { $Binary = Join-Path $PSScriptRoot 'mantra.exe' }
    if (-not (Test-Path -LiteralPath $Binary -PathType Leaf)) { Fail "no mantra.exe at $Binary; pass -Binary PATH" }
    & $Binary --version | Out-Null
    if ($LASTEXITCODE -ne 0) { Fail "$Binary does not run on this machine" }

    # Refusals first, so a refused run changes nothing.
    if ($Policy) {
        if (-not (Test-Path -LiteralPath $Policy -PathType Leaf)) { Fail "no such policy file: $Policy" }
        $ours = (Test-Entry 'policy' $PolicyPath) -or (Test-Entry 'policy-replaced' $PolicyPath)
        if ((Test-Path -LiteralPath $PolicyPath) -and -not (Test-SameFile $Policy $PolicyPath) -and -not $ours -and -not $Force) {
            Fail "a different policy is already at $PolicyPath; not replaced. Rerun with -Force to replace it (-Uninstall restores it)."
        }
    }
    if ($Hooks) {
        if (-not (Get-Command git.exe -ErrorAction SilentlyContinue)) { Fail '-Hooks needs Git for Windows (git.exe on PATH)' }
        $current = Get-SystemHooksPath
        if ($current -and ($current.TrimEnd('\', '/') -ine $HooksDir.TrimEnd('\')) -and -not $Force) {
            Fail "core.hooksPath is already set to $current in the system git config (not Mantra's); not replaced. Rerun with -Force to replace it (-Uninstall restores it)."
        }
    }

    New-Directory $InstallDir
    [void](Install-File $Binary $Exe)
    Add-Entry 'file' $Exe

    $pathValue = Get-MachinePath
    if (Test-OnPath $pathValue $InstallDir) {
        Say "already on the machine PATH: $InstallDir"
    } elseif ($DryRun) {
        Say "would add $InstallDir to the machine PATH"
    } else {
        Set-MachinePath (($pathValue.TrimEnd(';'), $InstallDir) -join ';')
        Add-Entry 'path' $InstallDir
        $script:Changed = $true
        Say "added $InstallDir to the machine PATH (new shells see it)"
    }

    # The event source Mantra mirrors its compliance events under
    # (mantra_core::os_log); users may write to it once it exists.
    if (Test-Path -LiteralPath $EventSourceKey) {
        Say "already registered: event log source '$EventSource'"
    } elseif ($DryRun) {
        Say "would register the event log source '$EventSource' (Application log)"
    } else {
        & eventcreate.exe /L APPLICATION /SO $EventSource /T INFORMATION /ID 1 /D 'Mantra installed: compliance events are recorded under this source.' | Out-Null
        if ($LASTEXITCODE -ne 0) { Fail "eventcreate could not register the event log source '$EventSource'" }
        Add-Entry 'eventsource' $EventSourceKey
        $script:Changed = $true
        Say "registered the event log source '$EventSource' (Application log)"
    }

    if ($Policy) {
        $ours = (Test-Entry 'policy' $PolicyPath) -or (Test-Entry 'policy-replaced' $PolicyPath)
        New-Directory $PolicyDir -AdminsOnly
        if ($ours) {
            [void](Install-File $Policy $PolicyPath)
        } elseif (-not (Test-Path -LiteralPath $PolicyPath)) {
            [void](Install-File $Policy $PolicyPath)
            Add-Entry 'policy' $PolicyPath
        } elseif (Test-SameFile $Policy $PolicyPath) {
            Say "already in place $PolicyPath (not installed by this script)"
        } elseif ($DryRun) {
            Say "would keep the existing policy as $PolicyBackup and install $PolicyPath"
        } else {
            Copy-Item -LiteralPath $PolicyPath -Destination $PolicyBackup -Force
            Add-Entry 'policy-replaced' $PolicyPath
            Say "kept the existing policy as $PolicyBackup (restored by -Uninstall)"
            [void](Install-File $Policy $PolicyPath)
        }
    }

    if (-not $NoService) {
        if (-not (Test-Path -LiteralPath $TaskTemplate)) { Fail "missing $TaskTemplate (keep install.ps1 beside its windows folder)" }
        $escaped = [Security.SecurityElement]::Escape($InstallDir)
        $xml = (Get-Content -LiteralPath $TaskTemplate -Raw).Replace('@BINDIR@', $escaped)
        $rendered = [IO.Path]::GetTempFileName()
        [IO.File]::WriteAllText($rendered, $xml)
        $taskExists = $null -ne (Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue)
        $same = Test-SameFile $rendered $TaskCopy
        if ($taskExists -and $same) {
            Say "already registered: scheduled task '$TaskName'"
        } elseif ($DryRun) {
            Say "would register the scheduled task '$TaskName' (at every user's logon)"
        } else {
            Register-ScheduledTask -TaskName $TaskName -Xml $xml -Force | Out-Null
            [void](Install-File $rendered $TaskCopy)
            $script:Changed = $true
            Say "registered the scheduled task '$TaskName': starts at each user's logon"
        }
        Remove-Item -LiteralPath $rendered -Force
        Add-Entry 'file' $TaskCopy
        Add-Entry 'task' $TaskName
    }

    if ($Hooks) {
        if ($DryRun) {
            Say "would run: mantra hooks install --scope system --dir $HooksDir"
        } else {
            New-Directory $PolicyDir -AdminsOnly
            $hookArgs = @('hooks', 'install', '--scope', 'system', '--dir', $HooksDir)
            if ($Force) { $hookArgs += '--force' }
            $out = & $Exe @hookArgs 2>&1
            if ($LASTEXITCODE -ne 0) {
                $out | ForEach-Object { [Console]::Error.WriteLine("$_") }
                Save-Manifest
                Fail 'mantra hooks install failed (see above); everything else is installed'
            }
            $out | ForEach-Object { Say "hooks: $_" }
            if (-not ("$out" -like 'already installed*')) { $script:Changed = $true }
            Add-Entry 'hooks' $HooksDir
        }
    }

    Save-Manifest
    if ($DryRun) { Say 'dry run: nothing changed' }
    elseif (-not $script:Changed) { Say 'Mantra is already installed; nothing changed' }
    else { Say "Mantra installed (manifest: $Manifest)" }
}

# --- uninstall ---------------------------------------------------------------

function Remove-Recorded([string]$Path) {
    if (-not (Test-Path -LiteralPath $Path)) { return }
    if ($DryRun) { Say "would remove $Path"; return }
    Remove-Item -LiteralPath $Path -Force
    Say "removed $Path"
}

function Invoke-Uninstall {
    if ($script:Entries.Count -eq 0) { Say "nothing to uninstall: no manifest at $Manifest"; return }
    $reversed = @($script:Entries)
    [array]::Reverse($reversed)
    foreach ($entry in $reversed) {
        $kind, $path = $entry.Split("`t", 2)
        switch ($kind) {
            'hooks' {
                if ($DryRun) { Say "would run: mantra hooks uninstall --scope system --dir $path"; break }
                if (-not (Test-Path -LiteralPath $Exe)) { [Console]::Error.WriteLine("install.ps1: warning: $Exe is gone; run: git config --system --unset core.hooksPath"); break }
                $out = & $Exe hooks uninstall --scope system --dir $path 2>&1
                if ($LASTEXITCODE -ne 0) {
                    $out | ForEach-Object { [Console]::Error.WriteLine("$_") }
                    Fail 'mantra hooks uninstall failed (see above); nothing else removed'
                }
                $out | ForEach-Object { Say "hooks: $_" }
            }
            'task' {
                if (Get-ScheduledTask -TaskName $path -ErrorAction SilentlyContinue) {
                    if ($DryRun) { Say "would unregister the scheduled task '$path'"; break }
                    Stop-ScheduledTask -TaskName $path -ErrorAction SilentlyContinue
                    Unregister-ScheduledTask -TaskName $path -Confirm:$false
                    Say "unregistered the scheduled task '$path'"
                }
            }
            'path' {
                $pathValue = Get-MachinePath
                if (Test-OnPath $pathValue $path) {
                    if ($DryRun) { Say "would remove $path from the machine PATH"; break }
                    $kept = $pathValue.Split(';') | Where-Object { $_ -and ($_.TrimEnd('\') -ine $path.TrimEnd('\')) }
                    Set-MachinePath ($kept -join ';')
                    Say "removed $path from the machine PATH"
                }
            }
            'policy-replaced' {
                if (-not (Test-Path -LiteralPath $PolicyBackup)) { [Console]::Error.WriteLine("install.ps1: warning: $PolicyBackup is gone; left $path"); break }
                if ($DryRun) { Say "would restore the previous policy at $path"; break }
                Move-Item -LiteralPath $PolicyBackup -Destination $path -Force
                Say "restored the previous policy at $path"
            }
            'policy' { Remove-Recorded $path }
            'eventsource' {
                if (-not (Test-Path -LiteralPath $path)) { break }
                if ($DryRun) { Say "would unregister the event log source $path (its events stay in the log)"; break }
                Remove-Item -LiteralPath $path -Recurse -Force
                Say "unregistered the event log source $path (its events stay in the log)"
            }
            'file' {
                if ($path -eq $Exe -and -not $DryRun) {
                    # Agents still running from it would keep the file locked.
                    Get-Process -Name mantra -ErrorAction SilentlyContinue |
                        Where-Object { $_.Path -eq $Exe } | Stop-Process -Force
                }
                Remove-Recorded $path
            }
            'dir' { }
            default { [Console]::Error.WriteLine("install.ps1: warning: unknown manifest entry: $entry") }
        }
    }
    Remove-Recorded $Manifest
    foreach ($entry in $reversed) {
        $kind, $path = $entry.Split("`t", 2)
        if ($kind -ne 'dir' -or -not (Test-Path -LiteralPath $path)) { continue }
        if ($DryRun) { Say "would remove $path if empty"; continue }
        if (@(Get-ChildItem -LiteralPath $path -Force).Count -eq 0) {
            Remove-Item -LiteralPath $path -Force
            Say "removed $path"
        } else {
            Say "left $path (not empty)"
        }
    }
    if ($DryRun) { Say 'dry run: nothing changed' } else { Say 'Mantra uninstalled' }
}

if (-not $DryRun -and -not (Test-Admin)) {
    Fail 'installing for all users needs an elevated PowerShell (Run as administrator)'
}
Read-Manifest
if ($Uninstall) { Invoke-Uninstall } else { Invoke-Install }
exit 0
