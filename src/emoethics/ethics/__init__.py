"""Ethics: guidelines as data, the judge (DIKE), the adversary (ERIS), rectification, SSHF."""
