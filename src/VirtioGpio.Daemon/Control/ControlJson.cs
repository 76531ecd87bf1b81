// SPDX-License-Identifier: MIT
using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using VirtioGpio.Device.Gpio;

namespace VirtioGpio.Daemon.Control;

/// <summary>JSON-line writing helpers and the wire names of the control protocol (docs/control-protocol.md). Reflection-free (AOT-safe).</summary>
internal static class ControlJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        SkipValidation = false,

        // Names are 7-bit ASCII, but error messages echo user input: keep the output plain and one line.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes one JSON object and a trailing '\n'.</summary>
    /// <param name="body">Writes the object's properties.</param>
    /// <returns>The UTF-8 line.</returns>
    public static byte[] Line(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes one JSON object with state and a trailing '\n'.</summary>
    /// <typeparam name="TState">The state type.</typeparam>
    /// <param name="state">Passed to <paramref name="body"/>.</param>
    /// <param name="body">Writes the object's properties.</param>
    /// <returns>The UTF-8 line.</returns>
    public static byte[] Line<TState>(TState state, Action<Utf8JsonWriter, TState> body)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer, state);
            writer.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary><c>{"ok":false,"error":"..."}</c>, echoing the request's <c>id</c> when it had one.</summary>
    /// <param name="message">One-line reason.</param>
    /// <param name="id">The request's <c>id</c> value, if any.</param>
    /// <returns>The line.</returns>
    public static byte[] Error(string message, JsonElement? id = null) => Line((message, id), static (w, s) =>
    {
        w.WriteBoolean("ok", false);
        w.WriteString("error", s.message);
        WriteId(w, s.id);
    });

    /// <summary>Writes <c>"id": …</c> when the request carried one.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="id">The request's <c>id</c>.</param>
    public static void WriteId(Utf8JsonWriter writer, JsonElement? id)
    {
        if (id is JsonElement value)
        {
            writer.WritePropertyName("id");
            value.WriteTo(writer);
        }
    }

    /// <summary>none | in | out.</summary>
    /// <param name="direction">The direction.</param>
    /// <returns>The wire name.</returns>
    public static string DirectionName(GpioDirection direction) => direction switch
    {
        GpioDirection.None => "none",
        GpioDirection.Input => "in",
        GpioDirection.Output => "out",
        _ => ((byte)direction).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>none | edge-rising | edge-falling | edge-both | level-high | level-low.</summary>
    /// <param name="irqType">The IRQ type.</param>
    /// <returns>The wire name.</returns>
    public static string IrqTypeName(GpioIrqType irqType) => irqType switch
    {
        GpioIrqType.None => "none",
        GpioIrqType.EdgeRising => "edge-rising",
        GpioIrqType.EdgeFalling => "edge-falling",
        GpioIrqType.EdgeBoth => "edge-both",
        GpioIrqType.LevelHigh => "level-high",
        GpioIrqType.LevelLow => "level-low",
        _ => ((byte)irqType).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>ISO 8601 round-trip time.</summary>
    /// <param name="time">The time.</param>
    /// <returns>The text.</returns>
    public static string Time(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);
}
