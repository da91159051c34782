"""Writes the small ONNX models the ONNX tests serve and evaluate, and onnxruntime's own predictions for given
rows, so the tests compare the TypeScript path with Python's to 1e-5.

usage: onnx-models.py OUT_DIR PENGUINS_JSON ROWS_JSON
  OUT_DIR/tabular.onnx     a scikit-learn LogisticRegression trained on the penguins' four measurements
                           (StandardScaler in front), written with onnx.helper (skl2onnx is not installed
                           here) the way skl2onnx writes it: named raw inputs, one float [batch, 1] tensor per
                           feature; outputs "label" (int64 [batch]) and "probabilities" (float [batch, 3]);
                           metadata_props say task, label key and class names (mlp.task, mlp.label_key,
                           mlp.classes)
  OUT_DIR/single.onnx      torch.onnx.export of a small MLP taking one feature tensor "features" [batch, 4] to
                           softmax probabilities [batch, 3]; no metadata (a model trained elsewhere)
  OUT_DIR/regression.onnx  y = 2x + 1 over one int64 [batch] input "x", output "variable" float [batch, 1],
                           metadata_props mlp.task=regression
  OUT_DIR/expected.json    {model: {output: values}} from onnxruntime on the rows of ROWS_JSON (regression:
                           x = the row's body mass), and the tabular model's accuracy on the penguins it
                           was trained on
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper

FLOATS = ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"]
CLASSES = ["Adelie", "Chinstrap", "Gentoo"]


def complete(penguins):
    return [p for p in penguins if all(p.get(n) is not None for n in FLOATS) and p.get("Species") in CLASSES]


def tabular(penguins):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rows = complete(penguins)
    x = np.array([[p[n] for n in FLOATS] for p in rows], dtype=np.float64)
    y = np.array([CLASSES.index(p["Species"]) for p in rows])
    scaler = StandardScaler().fit(x)
    clf = LogisticRegression(max_iter=1000).fit(scaler.transform(x), y)
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 1]) for n in FLOATS]
    nodes = [
        helper.make_node("Concat", FLOATS, ["x"], axis=1),
        helper.make_node("Sub", ["x", "mean"], ["centered"]),
        helper.make_node("Div", ["centered", "scale"], ["z"]),
        helper.make_node("MatMul", ["z", "w"], ["zw"]),
        helper.make_node("Add", ["zw", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ]
    inits = [
        helper.make_tensor("mean", TensorProto.FLOAT, [4], scaler.mean_.astype(np.float32)),
        helper.make_tensor("scale", TensorProto.FLOAT, [4], scaler.scale_.astype(np.float32)),
        helper.make_tensor("w", TensorProto.FLOAT, [4, 3], clf.coef_.T.astype(np.float32).flatten()),
        helper.make_tensor("b", TensorProto.FLOAT, [3], clf.intercept_.astype(np.float32)),
    ]
    outputs = [
        helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3]),
    ]
    graph = helper.make_graph(nodes, "penguins", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="onnx-models.py")
    model.ir_version = 8
    helper.set_model_props(model, {"mlp.task": "multiclass", "mlp.label_key": "Species", "mlp.classes": json.dumps(CLASSES)})
    onnx.checker.check_model(model)
    return model


def single(path):
    torch.manual_seed(3)
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3), torch.nn.Softmax(dim=1))
            self.register_buffer("scale", torch.tensor([50.0, 20.0, 200.0, 4000.0]))

        def forward(self, x):
            return self.mlp(x / self.scale)

    net = Net().eval()
    torch.onnx.export(net, torch.zeros(1, 4), path, input_names=["features"], output_names=["probabilities"],
                      dynamic_axes={"features": {0: "batch"}, "probabilities": {0: "batch"}}, dynamo=False)


def regression():
    inputs = [helper.make_tensor_value_info("x", TensorProto.INT64, ["N"])]
    nodes = [
        helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["xf", "axes"], ["x2"]),
        helper.make_node("Mul", ["x2", "two"], ["x3"]),
        helper.make_node("Add", ["x3", "one"], ["variable"]),
    ]
    inits = [
        helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0]),
        helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]),
    ]
    outputs = [helper.make_tensor_value_info("variable", TensorProto.FLOAT, ["N", 1])]
    model = helper.make_model(helper.make_graph(nodes, "linear", inputs, outputs, inits), opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"mlp.task": "regression", "mlp.label_key": "y"})
    onnx.checker.check_model(model)
    return model


def main():
    out, penguins_file, rows_file = sys.argv[1:4]
    penguins = json.load(open(penguins_file))
    onnx.save(tabular(penguins), f"{out}/tabular.onnx")
    single(f"{out}/single.onnx")
    onnx.save(regression(), f"{out}/regression.onnx")
    rows = json.load(open(rows_file))
    feeds = {
        "tabular": {n: np.array([[r[n]] for r in rows], dtype=np.float32) for n in FLOATS},
        "single": {"features": np.array([[r[n] for n in FLOATS] for r in rows], dtype=np.float32)},
        "regression": {"x": np.array([int(r["Body Mass (g)"]) for r in rows], dtype=np.int64)},
    }
    expected = {}
    for name, feed in feeds.items():
        session = ort.InferenceSession(f"{out}/{name}.onnx", providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        expected[name] = {n: v.tolist() for n, v in zip(names, session.run(names, feed))}
    known = complete(penguins)
    session = ort.InferenceSession(f"{out}/tabular.onnx", providers=["CPUExecutionProvider"])
    labels = session.run(["label"], {n: np.array([[p[n]] for p in known], dtype=np.float32) for n in FLOATS})[0]
    expected["tabular_accuracy"] = float(np.mean([CLASSES[l] == p["Species"] for l, p in zip(labels, known)]))
    json.dump(expected, open(f"{out}/expected.json", "w"))


main()
