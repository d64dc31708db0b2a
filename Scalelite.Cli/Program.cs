return await Scalelite.Cli.CliApp.RunAsync(args);
