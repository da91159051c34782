# Executes compiled Airflow DAG files against stand-ins for the Airflow, Kubernetes and pendulum modules they
# import (none is installed here) and prints what each built, as a JSON list: the DAG's arguments, each
# operator's class and keyword arguments (a mapped task's partial ones, and what it expands over), its downstream
# tasks, and what each ShortCircuitOperator decides with the default params. Usage: python3 airflow_stub.py DAG_FILE...

import datetime
import json
import runpy
import sys
import types

operators = []


class XComMap:
    # What `task.output.map(f)` returns (Airflow >= 2.4): applied to each item of the task's XCom when mapped.
    def __init__(self, task, f):
        self.task = task
        self.f = f


class XComArg:
    def __init__(self, task):
        self.task = task

    def map(self, f):
        return XComMap(self.task, f)


class Partial:
    # What `Operator.partial(...)` returns; `.expand(...)` makes the mapped task, downstream of the tasks whose
    # XCom it expands over, as Airflow's dynamic task mapping does.
    def __init__(self, cls, kwargs):
        self.cls = cls
        self.kwargs = kwargs

    def expand(self, **mapped):
        op = self.cls(**self.kwargs)
        op.mapped = mapped
        for value in mapped.values():
            if isinstance(value, (XComArg, XComMap)):
                value.task >> op
        return op


class Operator:
    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.mapped = None
        self.downstream = []
        operators.append(self)

    @classmethod
    def partial(cls, **kwargs):
        return Partial(cls, kwargs)

    @property
    def output(self):
        return XComArg(self)

    def __rshift__(self, other):
        if other.kwargs["task_id"] in self.downstream:
            raise ValueError(f"dependency {self.kwargs['task_id']} >> {other.kwargs['task_id']} set twice")
        self.downstream.append(other.kwargs["task_id"])
        return other


class KubernetesPodOperator(Operator):
    pass


class GKEStartPodOperator(Operator):
    pass


class ShortCircuitOperator(Operator):
    pass


class DAG:
    last = None

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        DAG.last = self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


NOTSET = object()


class Param:
    # As Airflow's Param: no default is not the same as a default of None (the param is then required).
    def __init__(self, default=NOTSET, **kwargs):
        self.value = {**({} if default is NOTSET else {"default": default}), **kwargs}


def module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


module("airflow", DAG=DAG)
module("airflow.models.param", Param=Param)
module("airflow.operators.python", ShortCircuitOperator=ShortCircuitOperator)
module("airflow.providers.cncf.kubernetes.operators.pod", KubernetesPodOperator=KubernetesPodOperator)
module("airflow.providers.google.cloud.operators.kubernetes_engine", GKEStartPodOperator=GKEStartPodOperator)


def Secret(deploy_type, deploy_target, secret, key=None, items=None):
    # The provider's signature (airflow.providers.cncf.kubernetes.secret.Secret).
    return {"Secret": {"deploy_type": deploy_type, "deploy_target": deploy_target, "secret": secret, "key": key}}


module("airflow.providers.cncf.kubernetes.secret", Secret=Secret)
k8s = types.SimpleNamespace(
    V1Toleration=lambda **kw: {"V1Toleration": kw},
    V1ResourceRequirements=lambda **kw: {"V1ResourceRequirements": kw},
    V1Container=lambda **kw: {"V1Container": kw},
    V1SecurityContext=lambda **kw: {"V1SecurityContext": kw},
    V1Volume=lambda **kw: {"V1Volume": kw},
    V1VolumeMount=lambda **kw: {"V1VolumeMount": kw},
    V1EmptyDirVolumeSource=lambda **kw: {"V1EmptyDirVolumeSource": kw},
)
module("kubernetes.client", models=k8s)
module("pendulum", datetime=lambda *args, **kw: {"pendulum.datetime": [*args, kw]})


def plain(value):
    if isinstance(value, XComMap):
        # The mapped values for a sample item "0/3".
        return {"xcom_map": value.task.kwargs["task_id"], "sample": plain(value.f("0/3"))}
    if isinstance(value, datetime.timedelta):
        return {"seconds": value.total_seconds()}
    if isinstance(value, Param):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if callable(value):
        return "<callable>"
    return value


def load(file):
    operators.clear()
    runpy.run_path(file)
    dag = DAG.last
    defaults = {k: p.value["default"] for k, p in dag.kwargs.get("params", {}).items() if "default" in p.value}
    tasks = []
    for op in operators:
        entry = {"class": type(op).__name__, "kwargs": plain(op.kwargs), "downstream": op.downstream}
        if op.mapped is not None:
            entry["expand"] = plain(op.mapped)
        if isinstance(op, ShortCircuitOperator):
            entry["decision_with_defaults"] = op.kwargs["python_callable"](params=defaults)
        tasks.append(entry)
    return {"dag": plain(dag.kwargs), "tasks": tasks}


print(json.dumps([load(file) for file in sys.argv[1:]]))
