// SPDX-License-Identifier: MIT
namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>
/// A fact that needs the real guest (QEMU + kernel + initramfs from scripts/guest/prepare.sh). When the artifacts are
/// missing it is skipped with the reason, unless <c>VIRTIOGPIO_REQUIRE_GUEST=1</c>: then it runs and fails clearly.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresGuestFactAttribute : FactAttribute
{
    public RequiresGuestFactAttribute()
    {
        if (!GuestEnvironment.Required && GuestEnvironment.Current.MissingReason is { } reason)
        {
            Skip = "real-guest test skipped: " + reason + $" (set {GuestEnvironment.RequireVariable}=1 to make this a failure)";
        }
    }
}
