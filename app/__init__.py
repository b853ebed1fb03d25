"""bihuan (闭环): closed-loop rectification of workplace-safety hazards."""
