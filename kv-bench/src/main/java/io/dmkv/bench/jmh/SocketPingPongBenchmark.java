package io.dmkv.bench.jmh;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor under the {@code tcp} transport: a blocking round trip over plain Java sockets on
 * loopback, no Netty, no framing. The benchmark thread writes {@code bytes} bytes and reads
 * {@code bytes} bytes back; a server thread in the same JVM reads each message whole and writes it
 * back. Two threads and two wake-ups per round trip, where a blocking dmkv READ over {@code tcp}
 * has three threads (caller, client event loop, memory node event loop): compare its
 * {@code VerbsBenchmark} score (tcp, READ, batch 1) with this one's. Not final: JMH subclasses
 * state classes.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Thread)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 8, time = 1)
public class SocketPingPongBenchmark
{
    /** Bytes each way per round trip. */
    @Param({"64"})
    public int bytes;

    private ServerSocket listener;
    private Thread echo;
    private Socket socket;
    private OutputStream out;
    private DataInputStream in;
    private byte[] message;
    private byte[] answer;

    @Setup(Level.Trial)
    public void start() throws IOException
    {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        echo = new Thread(this::serve, "socket-echo");
        echo.setDaemon(true);
        echo.start();
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), 5000);
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
        message = new byte[bytes];
        answer = new byte[bytes];
        for (int i = 0; i < bytes; i++)
        {
            message[i] = (byte)(i * 31 + 7);
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException, InterruptedException
    {
        socket.close();
        listener.close();
        echo.join(5000);
    }

    /** One blocking round trip; returns the answer (the message, echoed). */
    @Benchmark
    public byte[] roundTrip() throws IOException
    {
        out.write(message);
        in.readFully(answer);
        return answer;
    }

    private void serve()
    {
        try (Socket s = listener.accept())
        {
            s.setTcpNoDelay(true);
            final InputStream sin = s.getInputStream();
            final OutputStream sout = s.getOutputStream();
            final byte[] buffer = new byte[bytes];
            while (true)
            {
                int read = 0;
                while (read < bytes)
                {
                    final int n = sin.read(buffer, read, bytes - read);
                    if (n < 0)
                    {
                        return;
                    }
                    read += n;
                }
                sout.write(buffer);
            }
        }
        catch (final IOException e)
        {
            // The benchmark closed the connection.
        }
    }
}
