package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// bashCompletion asks fullstop itself for the words that may follow (the
// hidden --generate-bash-completion flag of urfave/cli).
const bashCompletion = `# fullstop completion for bash: source <(fullstop completion bash)
_fullstop_complete() {
  local word="${COMP_WORDS[COMP_CWORD]}"
  local words
  if [[ "$word" == -* ]]; then
    words=$("${COMP_WORDS[@]:0:COMP_CWORD}" "$word" --generate-bash-completion 2>/dev/null)
  else
    words=$("${COMP_WORDS[@]:0:COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$words" -- "$word"))
}
complete -o bashdefault -o default -F _fullstop_complete fullstop
`

// zshCompletion does the same for zsh.
const zshCompletion = `#compdef fullstop
# fullstop completion for zsh: source <(fullstop completion zsh)
_fullstop() {
  local -a candidates
  if [[ "${words[CURRENT]}" == -* ]]; then
    candidates=("${(@f)$("${words[@]:0:CURRENT-1}" "${words[CURRENT]}" --generate-bash-completion 2>/dev/null)}")
  else
    candidates=("${(@f)$("${words[@]:0:CURRENT-1}" --generate-bash-completion 2>/dev/null)}")
  fi
  compadd -a candidates
}
compdef _fullstop fullstop
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "bash: source <(fullstop completion bash)   zsh: source <(fullstop completion zsh)\n" +
			"fish: fullstop completion fish > ~/.config/fish/completions/fullstop.fish",
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash":
				_, err := fmt.Fprint(c.App.Writer, bashCompletion)
				return err
			case "zsh":
				_, err := fmt.Fprint(c.App.Writer, zshCompletion)
				return err
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return fmt.Errorf("fish completion: %w", err)
				}
				_, err = fmt.Fprint(c.App.Writer, script)
				return err
			}
			return usagef("completion takes bash, zsh or fish")
		},
	}
}
