from kubeproof.cli import main

main()
