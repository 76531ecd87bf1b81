// SPDX-License-Identifier: MIT
namespace VirtioGpio.Device.Internal;

/// <summary>
/// Hands device events to host handlers outside the device lock, in the order they were posted, one at a
/// time (a single drainer at any moment). <see cref="Post(T)"/> is called under the device lock; <see cref="Drain"/>
/// after it is released. A slow handler delays only later events, never the guest's queues.
/// </summary>
/// <typeparam name="T">The event payload (a struct: no allocation per event at steady state).</typeparam>
internal sealed class OrderedEventQueue<T>
{
    private readonly object _gate = new();
    private readonly Queue<T> _items = new();
    private bool _draining;
    private volatile bool _hasItems;

    /// <summary>Whether anything waits to be delivered (cheap check on the hot path).</summary>
    public bool HasItems => _hasItems;

    public void Post(T item)
    {
        lock (_gate)
        {
            _items.Enqueue(item);
            _hasItems = true;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _items.Clear();
            _hasItems = _draining;
        }
    }

    /// <summary>Delivers every posted item to <paramref name="deliver"/> unless another thread is already
    /// delivering (it then delivers ours too, in order).</summary>
    /// <param name="deliver">Called per item; exceptions are passed to <paramref name="onError"/>.</param>
    /// <param name="onError">Receives handler exceptions; the drain continues.</param>
    public void Drain(Action<T> deliver, Action<Exception> onError)
    {
        lock (_gate)
        {
            if (_draining || _items.Count == 0)
            {
                return;
            }

            _draining = true;
        }

        while (true)
        {
            T item;
            lock (_gate)
            {
                if (_items.Count == 0)
                {
                    _draining = false;
                    _hasItems = false;
                    return;
                }

                item = _items.Dequeue();
            }

            try
            {
                deliver(item);
            }
#pragma warning disable CA1031 // A host handler's failure must never reach the transport or the guest.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                onError(ex);
            }
        }
    }
}
