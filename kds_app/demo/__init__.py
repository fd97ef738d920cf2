"""`kds --demo` (`kitchen`: a working kitchen in one process), its menu and orders (`demo_orders`) and the POS
simulator (`pos_sim`, also the `kds-pos-sim` command)."""
