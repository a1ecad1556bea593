import SwitchyardNATS
import Testing
