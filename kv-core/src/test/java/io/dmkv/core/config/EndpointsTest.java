package io.dmkv.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EndpointsTest
{
    @Test
    void acceptsHostPortBracketedV6AndInJvmNodes()
    {
        assertNull(Endpoints.problem("127.0.0.1:7410"));
        assertNull(Endpoints.problem("mn-1.example:65535"));
        assertNull(Endpoints.problem("[::1]:7410"));
        assertNull(Endpoints.problem("mem:mn0"));
        assertEquals("127.0.0.1:7410", Endpoints.require(" 127.0.0.1:7410 "));
    }

    @Test
    void anAddressWithoutAPortIsNamedWithAnExample()
    {
        final String p = Endpoints.problem("127.0.0.1");
        assertTrue(p.contains("'127.0.0.1' has no port") && p.contains("127.0.0.1:7410"), p);
        assertTrue(Endpoints.problem("::1").contains("[::1]:7410"), Endpoints.problem("::1"));
        assertTrue(Endpoints.problem("host:").contains("no port"));
        assertTrue(Endpoints.problem("host:http").contains("'http'"));
        assertTrue(Endpoints.problem("host:0").contains("not in 1..65535"));
        assertTrue(Endpoints.problem("host:70000").contains("not in 1..65535"));
        assertTrue(Endpoints.problem("mem:").contains("mem:NAME"));
        assertTrue(Endpoints.problem(" ").contains("empty"));
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Endpoints.require("h"));
        assertTrue(e.getMessage().contains("'h' has no port"), e.getMessage());
    }
}
