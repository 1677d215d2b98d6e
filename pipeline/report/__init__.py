"""The corpus report: `webtext report CORPUS` (and every build-corpus run) writes CORPUS/_report/."""
