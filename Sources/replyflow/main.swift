import Foundation
import ReplyflowCLI

exit(await ReplyflowMain.run())
