package io.headwater.sgd;

import io.headwater.core.Head;
import io.headwater.core.HeadContract;
import io.headwater.core.HeadOptions;
import io.headwater.core.HeadType;

/** The head contract for {@code sgd} with the default options, found through the ServiceLoader. */
class SgdHeadContractTest extends HeadContract {

    @Override
    protected Head newHead() {
        return HeadType.SGD.create(D, HeadOptions.defaults());
    }
}
