"""The serving container's handler, as `mlopsc run --local`'s batch transform and
`mlopsc serve --local` load it: `code/<SAGEMAKER_PROGRAM>` of an unpacked model.tar.gz
(`code/inference.py` by default), with the four functions of SageMaker's contract. Written
beside each of their harnesses as mlopsc_handler.py.
"""

import importlib
import os
import sys
from pathlib import Path

CONTRACT = ("model_fn", "input_fn", "predict_fn", "output_fn")


def load_handler(model_dir, caller):
    """The handler module; exits naming what is missing when it lacks part of the contract.
    `caller` says who calls it, for that message."""
    sys.path.insert(0, str(Path(model_dir) / "code"))
    program = os.environ.get("SAGEMAKER_PROGRAM", "inference.py")
    handler = importlib.import_module(Path(program).stem)
    missing = [name for name in CONTRACT if not callable(getattr(handler, name, None))]
    if missing:
        raise SystemExit(f"code/{program} in model.tar.gz defines no {', '.join(missing)}; "
                         f"{caller} calls {', '.join(CONTRACT)}")
    return handler
