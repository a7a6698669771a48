package io.dmkv;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A store in a process of its own, for tests that stop and resume a client (SIGSTOP/SIGCONT):
 * {@code StoreChild COORDINATOR TRANSPORT R} opens a coordinated store, prints {@code ready ID},
 * then answers stdin lines {@code put K V} and {@code get K} with {@code OK [value]} or
 * {@code ERR message}, until stdin closes.
 */
public final class StoreChild
{
    private StoreChild()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (KvStore kv = KvStore.open(KvConfig.builder().coordinator(args[0]).transport(args[1])
            .replication(Integer.parseInt(args[2])).sessionTimeout(Duration.ofSeconds(1))
            .mapLease(Duration.ofMillis(500)).build()))
        {
            out.println("ready " + kv.clientId());
            final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null)
            {
                final String[] w = line.trim().split(" ");
                try
                {
                    if (w[0].equals("put"))
                    {
                        kv.put(w[1], w[2]);
                        out.println("OK");
                    }
                    else if (w[0].equals("get"))
                    {
                        out.println("OK " + kv.get(w[1]));
                    }
                    else
                    {
                        out.println("ERR unknown command " + w[0]);
                    }
                }
                catch (final RuntimeException e)
                {
                    out.println("ERR " + e.getMessage());
                }
            }
        }
    }
}
