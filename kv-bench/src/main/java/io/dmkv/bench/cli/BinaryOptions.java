package io.dmkv.bench.cli;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;

import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * How {@code kv put|get|delete} turn KEY and VALUE arguments into bytes, and a value back into
 * text: UTF-8 by default, checked both ways, or {@code --hex} / {@code --base64} for binary keys
 * and values. A picocli mixin.
 *
 * <p>The JVM decodes its arguments before dmkv sees them and replaces bytes that are not UTF-8
 * with U+FFFD, so two different byte strings would become one key. An argument holding U+FFFD
 * (or half a surrogate pair) is therefore refused; {@code scripts/kv} runs the JVM in a UTF-8
 * locale so that valid UTF-8 always arrives intact.
 */
public final class BinaryOptions
{
    /** At most one of the binary encodings. */
    static final class Encoding
    {
        @Option(names = "--hex", description = "KEY and VALUE are hexadecimal bytes (e.g. ff00); get prints the value in hex.")
        boolean hex;

        @Option(names = "--base64", description = "KEY and VALUE are base64 bytes (e.g. /wA=); get prints the value in base64.")
        boolean base64;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Encoding encoding;

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    /**
     * The bytes of argument {@code what} ({@code KEY} or {@code VALUE}).
     *
     * @throws CommandLine.ParameterException (exit 2) if it is not valid in the chosen encoding.
     */
    public byte[] decode(final String what, final String arg)
    {
        try
        {
            if (hex())
            {
                return HexFormat.of().parseHex(arg);
            }
            if (base64())
            {
                return Base64.getDecoder().decode(arg);
            }
            if (arg.indexOf('\uFFFD') >= 0)
            {
                throw new IllegalArgumentException("is not valid UTF-8 (or holds U+FFFD, the mark of bytes that"
                    + " could not be decoded)");
            }
            final ByteBuffer b = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(arg));
            final byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            return bytes;
        }
        catch (final IllegalArgumentException | CharacterCodingException e)
        {
            final String why = e instanceof CharacterCodingException ? "is not valid UTF-8 (half a surrogate pair)"
                : e.getMessage();
            throw new CommandLine.ParameterException(spec.commandLine(), what + " " + (hex() || base64()
                ? "is not valid " + (hex() ? "hex" : "base64") + ": " + why
                : why + "; give binary keys and values with --hex or --base64"));
        }
    }

    /**
     * {@code value} as the command prints it.
     *
     * @throws IllegalStateException (exit 1) if it is not UTF-8 and no binary encoding was asked for.
     */
    public String encode(final byte[] value)
    {
        if (hex())
        {
            return HexFormat.of().formatHex(value);
        }
        if (base64())
        {
            return Base64.getEncoder().encodeToString(value);
        }
        try
        {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(value)).toString();
        }
        catch (final CharacterCodingException e)
        {
            throw new IllegalStateException("the value (" + value.length + " bytes) is not valid UTF-8: print it with"
                + " --hex or --base64");
        }
    }

    private boolean hex()
    {
        return encoding != null && encoding.hex;
    }

    private boolean base64()
    {
        return encoding != null && encoding.base64;
    }
}
