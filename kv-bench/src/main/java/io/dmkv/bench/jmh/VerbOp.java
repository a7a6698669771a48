package io.dmkv.bench.jmh;

/** The verb a benchmark batch is made of (a JMH parameter, hence public). */
public enum VerbOp
{
    READ,
    WRITE,
    CAS,
    FAA
}
