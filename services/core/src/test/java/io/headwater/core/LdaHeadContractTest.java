package io.headwater.core;

/** The head contract for {@code lda} with the default options. */
class LdaHeadContractTest extends HeadContract {

    @Override
    protected Head newHead() {
        return HeadType.LDA.create(D, HeadOptions.defaults());
    }
}
