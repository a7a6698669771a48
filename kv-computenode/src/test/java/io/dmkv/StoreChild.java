package io.dmkv;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * A store in a process of its own, for tests that stop and resume a client (SIGSTOP/SIGCONT):
 * {@code StoreChild COORDINATOR TRANSPORT R [proxy|plain]} opens a coordinated store ({@code static:NODES} instead
 * of the coordinator: a static one with small blocks and subtables; {@code proxy|plain}: a FlexKV
 * compute node, proxy-enabled or not, with a 3 s session), prints {@code ready ID},
 * then answers stdin lines {@code put K V}, {@code get K} and {@code fill PREFIX N LENGTH} (puts
 * keys PREFIX0.. with values PREFIXi-vvv..) with {@code OK [value]} or {@code ERR message}, until
 * stdin closes.
 */
public final class StoreChild
{
    static final String STATIC = "static:";

    private StoreChild()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        final KvConfig.Builder config = args[0].startsWith(STATIC)
            ? KvConfig.builder().memnodes(List.of(args[0].substring(STATIC.length()).split(",")))
                .blockSize(64 * 1024).bucketGroups(16).initialDepth(1).maxDepth(8).indexAreaBytes(1 << 20)
            : KvConfig.builder().coordinator(args[0]).sessionTimeout(Duration.ofSeconds(1))
                .mapLease(Duration.ofMillis(500));
        if (args.length > 3)
        {
            // A FlexKV compute node ("proxy": proxy-enabled, "plain": not), with a session that a
            // busy machine does not expire by mistake.
            config.sessionTimeout(Duration.ofSeconds(3)).mapLease(Duration.ofSeconds(1))
                .proxyEnabled(args[3].equals("proxy")).proxyHandoverGrace(Duration.ofMillis(300));
        }
        try (KvStore kv = KvStore.open(config.transport(args[1]).replication(Integer.parseInt(args[2])).build()))
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
                    else if (w[0].equals("fill"))
                    {
                        for (int i = 0; i < Integer.parseInt(w[2]); i++)
                        {
                            kv.put(w[1] + i, w[1] + i + "-" + "v".repeat(Integer.parseInt(w[3])));
                        }
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
