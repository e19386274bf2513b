package io.headwater.sgd;

import io.headwater.core.Head;
import io.headwater.core.HeadContract;
import io.headwater.core.HeadOptions;
import io.headwater.core.HeadOptions.SgdOptions;
import io.headwater.core.HeadType;
import java.util.List;

/** The head contract for {@code sgd} with two hidden relu layers (the default has none). */
class SgdHiddenLayersContractTest extends HeadContract {

    @Override
    protected Head newHead() {
        return HeadType.SGD.create(D, HeadOptions.defaults()
                .withSgd(SgdOptions.defaults().withHidden(List.of(64, 32)).withLearningRate(0.01)));
    }
}
