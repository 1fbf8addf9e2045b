from django.dispatch import Signal

# Sent after commit when a sanction is in force; higher parts (workflows) subscribe,
# since integrity may not import them. Arguments: sanction.
sanction_in_force = Signal()
