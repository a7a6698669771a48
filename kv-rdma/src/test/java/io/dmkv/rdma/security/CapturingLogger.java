package io.dmkv.rdma.security;

import java.util.ArrayList;
import java.util.List;

import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** A logger that keeps every WARN it is given, formatted, so a test can count what was logged. */
public final class CapturingLogger extends LegacyAbstractLogger
{
    private static final long serialVersionUID = 1L;

    private final List<String> warnings = new ArrayList<>();

    public CapturingLogger(final String name)
    {
        this.name = name;
    }

    /** The WARN lines logged so far, oldest first. */
    public synchronized List<String> warnings()
    {
        return List.copyOf(warnings);
    }

    @Override
    protected synchronized void handleNormalizedLoggingCall(final Level level, final Marker marker, final String format,
        final Object[] arguments, final Throwable throwable)
    {
        if (level == Level.WARN)
        {
            warnings.add(MessageFormatter.basicArrayFormat(format, arguments));
        }
    }

    @Override
    protected String getFullyQualifiedCallerName()
    {
        return null;
    }

    @Override
    public boolean isTraceEnabled()
    {
        return false;
    }

    @Override
    public boolean isDebugEnabled()
    {
        return false;
    }

    @Override
    public boolean isInfoEnabled()
    {
        return true;
    }

    @Override
    public boolean isWarnEnabled()
    {
        return true;
    }

    @Override
    public boolean isErrorEnabled()
    {
        return true;
    }
}
