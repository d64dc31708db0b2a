using System.Diagnostics.CodeAnalysis;

// Test names follow Method_Condition_Expected, which CA1707 would forbid.
[assembly: SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores", Justification = "Test naming convention Method_Condition_Expected.", Scope = "namespaceanddescendants", Target = "~N:Scalelite.Tests.BbbSimulator")]
