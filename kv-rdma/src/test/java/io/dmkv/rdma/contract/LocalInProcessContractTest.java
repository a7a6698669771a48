package io.dmkv.rdma.contract;

/** The verbs contract on the localInProcess fixture. */
class LocalInProcessContractTest extends VerbsContractTest
{
    @Override
    protected TransportFixture createFixture()
    {
        return Fixtures.localInProcess();
    }
}
