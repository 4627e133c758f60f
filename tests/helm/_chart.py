"""The chart the helm tests install, written from Python so the tests need no fixture files."""

from __future__ import annotations

from pathlib import Path

CHART = {
    "Chart.yaml": """\
apiVersion: v2
name: demo
description: kubeproof helm test chart
type: application
version: 0.1.0
appVersion: "1.0"
""",
    "values.yaml": """\
replicas: 1
image: nginx:1.25
greeting: hello
extra: true
""",
    "templates/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels:
    app: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
    spec:
      containers:
      - name: web
        image: {{ .Values.image }}
        ports:
        - containerPort: 80
""",
    "templates/service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-svc
spec:
  selector:
    app: {{ .Release.Name }}
  ports:
  - port: 80
    targetPort: 80
""",
    "templates/configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  greeting: {{ .Values.greeting | quote }}
""",
    "templates/extra.yaml": """\
{{- if .Values.extra }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-extra
data:
  present: "yes"
{{- end }}
""",
    "templates/secret.yaml": """\
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-secret
type: Opaque
stringData:
  password: s3cret
""",
    # A Job hook: helm waits until the Job controller reports it Complete (the kubelet simulates its container).
    # before-hook-creation keeps the finished Job, so the test can see that it ran.
    "templates/hook.yaml": """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-hook
  annotations:
    helm.sh/hook: pre-install
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: registry.example/migrate:1
        command: ["migrate", "--up"]
""",
}


def write_chart(root: Path) -> Path:
    for name, text in CHART.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
