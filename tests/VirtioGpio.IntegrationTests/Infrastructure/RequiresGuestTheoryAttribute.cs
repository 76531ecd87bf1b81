// SPDX-License-Identifier: MIT
namespace VirtioGpio.IntegrationTests.Infrastructure;

/// <summary>The theory form of <see cref="RequiresGuestFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresGuestTheoryAttribute : TheoryAttribute
{
    public RequiresGuestTheoryAttribute()
    {
        if (!GuestEnvironment.Required && GuestEnvironment.Current.MissingReason is { } reason)
        {
            Skip = "real-guest test skipped: " + reason + $" (set {GuestEnvironment.RequireVariable}=1 to make this a failure)";
        }
    }
}
