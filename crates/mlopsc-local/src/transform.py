"""`mlopsc run --local`'s batch transform: what the SageMaker serving container does for a
transform job, without the container. It loads the handler that model.tar.gz ships
(`code/<SAGEMAKER_PROGRAM>`, `code/inference.py` by default), calls its model_fn once, then
input_fn, predict_fn and output_fn for each record of each input object, and writes
`<object>.out`.

    python transform.py MODEL_DIR INPUT_DIR OUTPUT_DIR CONTENT_TYPE ACCEPT SPLIT_TYPE ASSEMBLE_WITH
"""

import sys
from pathlib import Path

from mlopsc_handler import load_handler



def main():
    model_dir, input_dir, output_dir, content_type, accept, split_type, assemble_with = sys.argv[1:8]
    handler = load_handler(model_dir, "the local transform")
    model = handler.model_fn(model_dir)

    def transform(body):
        result = handler.output_fn(handler.predict_fn(handler.input_fn(body, content_type), model), accept)
        if isinstance(result, tuple):  # (body, content type), as the serving toolkit allows
            result = result[0]
        return result.encode() if isinstance(result, str) else bytes(result)

    separator = b"\n" if assemble_with == "Line" else b""
    objects = sorted(p for p in Path(input_dir).rglob("*") if p.is_file())
    for path in objects:
        body = path.read_bytes()
        if split_type == "Line":
            output = b"".join(transform(line) + separator for line in body.splitlines() if line)
        else:
            output = transform(body)
        relative = path.relative_to(input_dir)
        target = Path(output_dir) / f"{relative}.out"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(output)
        print(f"{relative} -> {relative}.out ({len(output)} bytes)")
    print(f"transformed {len(objects)} objects")


if __name__ == "__main__":
    main()
