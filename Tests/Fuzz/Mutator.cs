using System.Text;

namespace Realtime.Tests.Fuzz;

/// <summary>
/// Seeded, deterministic malformed input: valid templates taken apart (cut, spliced, repeated, bytes flipped or
/// inserted, types swapped, nesting deepened, numbers blown up, control characters and bad UTF-8 put in). The same
/// seed gives the same cases, so a failure is replayed by its seed and case number.
/// </summary>
public sealed class Mutator(int seed)
{
    private static readonly string[] Pieces =
    [
        "{", "}", "[", "]", "\"", ":", ",", "null", "true", "-1", "1e309", "18446744073709551616", "\"\\u0000\"", "\\", "\u001e",
        "\"type\":1", "\"type\":7", "\"target\":\"Echo\"", "\"arguments\":", "\"invocationId\":\"x\"", "{\"_placeholder\":true,\"num\":0}",
        "\u0007", "\u00ff", "\ud800", new string('a', 300), "/", "?", "&", "=", "%", "%00", "%zz",
    ];

    private readonly Random _random = new(seed);

    public int Next(int max) => _random.Next(max);

    public T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    /// <summary>A mutation of <paramref name="template"/> (one to four edits).</summary>
    public string Mutate(string template)
    {
        var text = new StringBuilder(template);
        for (var edits = 1 + _random.Next(4); edits > 0; edits--)
        {
            var at = text.Length == 0 ? 0 : _random.Next(text.Length + 1);
            switch (_random.Next(9))
            {
                case 0 when text.Length > 0: // cut
                    text.Length = _random.Next(text.Length);
                    break;
                case 1: // insert a piece
                    text.Insert(at, Pick(Pieces));
                    break;
                case 2 when text.Length > 0: // delete a span
                    var length = Math.Min(1 + _random.Next(8), text.Length - Math.Min(at, text.Length - 1));
                    text.Remove(Math.Min(at, text.Length - 1), length);
                    break;
                case 3 when text.Length > 0: // flip a character
                    text[Math.Min(at, text.Length - 1)] = (char)_random.Next(0x20, 0x7f);
                    break;
                case 4: // deep nesting
                    var depth = 1 + _random.Next(2000);
                    text.Insert(at, new string('[', depth) + new string(']', _random.Next(2) == 0 ? depth : 0));
                    break;
                case 5 when text.Length > 0: // repeat a span
                    var start = Math.Min(at, text.Length - 1);
                    var span = text.ToString(start, Math.Min(1 + _random.Next(20), text.Length - start));
                    text.Insert(start, string.Concat(Enumerable.Repeat(span, 1 + _random.Next(5))));
                    break;
                case 6: // a control character or a lone surrogate
                    text.Insert(at, (char)(_random.Next(2) == 0 ? _random.Next(0, 0x20) : 0xd800 + _random.Next(0x400)));
                    break;
                case 7: // swap a value's type
                    text.Replace("\"", "", at, Math.Min(10, text.Length - at));
                    break;
                default: // random printable junk
                    text.Insert(at, RandomText(1 + _random.Next(30)));
                    break;
            }
        }

        return text.ToString();
    }

    /// <summary>Random bytes, sometimes not UTF-8.</summary>
    public byte[] Bytes(int max)
    {
        var bytes = new byte[_random.Next(max + 1)];
        _random.NextBytes(bytes);
        return bytes;
    }

    public string RandomText(int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = (char)_random.Next(0x20, 0x7f);
        }

        return new string(chars);
    }
}
