"""Process-backed pods: containers whose image is mapped to a local command run as real processes.

``images.ImageMap`` says which images are mapped; ``process.ProcessRuntime`` runs, probes, stops and logs
them; ``reaper`` guarantees no process outlives the cluster, even when the test runner is SIGKILLed.
"""

from kubeproof.runtime.images import ImageMap
from kubeproof.runtime.process import ProcessRuntime

__all__ = ["ImageMap", "ProcessRuntime"]
