// SPDX-License-Identifier: MIT
namespace VirtioGpio.Transport.VhostUser;

/// <summary>Back-end → front-end request codes on the SET_BACKEND_REQ_FD channel (VHOST-USER.md §4).</summary>
public enum BackendRequest : uint
{
    /// <summary>No request.</summary>
    None = 0,

    /// <summary>VHOST_USER_BACKEND_IOTLB_MSG.</summary>
    IotlbMsg = 1,

    /// <summary>VHOST_USER_BACKEND_CONFIG_CHANGE_MSG: the device configuration changed.</summary>
    ConfigChangeMsg = 2,

    /// <summary>VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG.</summary>
    VringHostNotifierMsg = 3,

    /// <summary>VHOST_USER_BACKEND_VRING_CALL (INBAND_NOTIFICATIONS).</summary>
    VringCall = 4,

    /// <summary>VHOST_USER_BACKEND_VRING_ERR (INBAND_NOTIFICATIONS).</summary>
    VringErr = 5,

    /// <summary>VHOST_USER_BACKEND_SHARED_OBJECT_ADD.</summary>
    SharedObjectAdd = 6,

    /// <summary>VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE.</summary>
    SharedObjectRemove = 7,

    /// <summary>VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP.</summary>
    SharedObjectLookup = 8,
}
