package io.headwater.sgd;

import io.headwater.core.Head;
import io.headwater.core.HeadOptions;
import io.headwater.core.HeadProvider;
import io.headwater.core.HeadType;
import java.nio.ByteBuffer;

/** Makes {@link SgdHead}s for {@link HeadType#SGD}; registered in {@code META-INF/services}. */
public final class SgdHeadProvider implements HeadProvider {

    @Override
    public HeadType type() {
        return HeadType.SGD;
    }

    @Override
    public Head create(int dimension, HeadOptions options) {
        return new SgdHead(dimension, options.sgd());
    }

    @Override
    public Head decode(ByteBuffer buf) {
        return SgdHead.decode(buf);
    }
}
