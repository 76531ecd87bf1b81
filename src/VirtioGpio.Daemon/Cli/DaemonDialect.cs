// SPDX-License-Identifier: MIT
namespace VirtioGpio.Daemon.Cli;

/// <summary>The wire protocol the daemon's devices speak (<c>--dialect</c>). Never auto-detected (DRAFT.md §1).</summary>
internal enum DaemonDialect
{
    /// <summary>VIRTIO 1.3 §5.17 "GPIO Device" (device ID 41), STANDARD.md.</summary>
    Standard,

    /// <summary>The 2020 draft protocol (device ID 30 by default), DRAFT.md.</summary>
    Draft,
}
