"""Submission images (see ``runner.images.resolve``).

Stop-gap so ``runner.images`` keeps its names while the module becomes a package; the
package's own ``__init__`` replaces this file.
"""

from runner.images.resolve import *  # noqa: F403
from runner.images.resolve import (  # noqa: F401
    BUILD_LABEL,
    BUILD_REPO,
    BuildFailed,
    ImageRef,
    ImageRejected,
    load_image,
    parse_size,
    resolve_image,
    save_image,
)
